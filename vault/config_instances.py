"""[instances]: several `serve` processes on one PostgreSQL database (vault.leases).

Kept apart from vault.config, which reads the section and calls `lease_ttl`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vault.config_sources import Origins

# The shortest lease: its holder renews every third of it, one UPDATE each time.
SHORTEST = timedelta(seconds=3)


def lease_ttl(m: dict[str, dict[str, Any]], at: Origins) -> timedelta:
    """instances.lease_ttl: how long a lease (Slack socket mode, Telegram polling, an
    instance's claims) outlives a holder that died; its holder renews every third of it."""
    from vault.config import ConfigError, parse_duration

    where = at("instances", "lease_ttl")
    ttl = parse_duration(m["instances"]["lease_ttl"], where)
    if ttl < SHORTEST:
        raise ConfigError(f"{where}: {m['instances']['lease_ttl']!r} is under 3s; a lease "
                          "renewed that often costs the database more than it saves")
    return ttl
