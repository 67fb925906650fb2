"""[email] limits: what one peer, one connection or one message may cost the service.

Their defaults are in vault.config.DEFAULTS ("email"); config.toml and README's
"Security" section list them.

Defaults follow Postfix's where it has one (header_size_limit 100 KB, mime_nesting_limit
100 is tighter here: real mail nests 3 or 4 deep), and the SMTP timeouts RFC 5321 allows
a server to shorten for hygiene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from vault.config import ApiRate, ConfigError, parse_duration, parse_rate, parse_size
from vault.config_sources import Origins


@dataclass(frozen=True)
class MailLimits:
    idle_timeout: timedelta = timedelta(seconds=30)
    command_timeout: timedelta = timedelta(seconds=60)
    max_connections: int = 200
    max_connections_per_peer: int = 10
    message_rate: ApiRate = field(default_factory=lambda: ApiRate(30, timedelta(minutes=1)))
    max_parts: int = 500
    max_depth: int = 20
    max_headers: int = 200
    parse_timeout: timedelta = timedelta(seconds=10)
    parse_memory: int = 512 * 1024**2


def mail_limits(section: dict[str, Any], origins: Origins) -> MailLimits:
    def at(key: str) -> str:
        return origins("email", key)

    def count(key: str) -> int:
        value = section[key]
        if isinstance(value, bool) or not str(value).strip().isdigit() or int(value) < 1:
            raise ConfigError(f"{at(key)}: {value!r} is not a whole number of 1 or more")
        return int(value)

    def duration(key: str) -> timedelta:
        value = parse_duration(section[key], at(key))
        if value < timedelta(seconds=1):
            raise ConfigError(f"{at(key)}: {section[key]!r} must be at least 1s")
        return value

    return MailLimits(
        idle_timeout=duration("idle_timeout"), command_timeout=duration("command_timeout"),
        max_connections=count("max_connections"),
        max_connections_per_peer=count("max_connections_per_peer"),
        message_rate=parse_rate(section["message_rate"], at("message_rate")),
        max_parts=count("max_parts"), max_depth=count("max_depth"),
        max_headers=count("max_headers"), parse_timeout=duration("parse_timeout"),
        parse_memory=parse_size(section["parse_memory"], at("parse_memory")),
    )
