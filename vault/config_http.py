"""[http] limits: what one client may hold of the HTTP server (vault.http_limits).

Kept apart from vault.config, which reads the section and calls `http_limits`; this
module imports nothing of ours at load time, so vault.config can import HttpLimits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vault.config_sources import Origins

# [http] keys and their defaults (vault.config.DEFAULTS adds them to the section).
DEFAULTS: dict[str, Any] = {
    "max_connections": 1000,  # open connections; a request over it gets 503
    "keep_alive_timeout": "5s",  # an idle kept-alive connection is closed after this
    "header_timeout": "15s",  # a request's headers must arrive within this
    "body_timeout": "30s",  # and its body within this (408 otherwise)
    "max_header_size": "16KB",  # request line and headers together (431/400 over it)
    "max_body": "1MB",  # every route's body cap (Slack, Telegram, Stripe, pages)
    "max_api_body": "32MB",  # /api/ bodies: a batch of 1,000 invoices needs more
}


@dataclass(frozen=True)
class HttpLimits:
    """Connection and request limits of the HTTP server. Times in seconds, sizes in bytes."""

    max_connections: int = 1000
    keep_alive_timeout: float = 5.0
    header_timeout: float = 15.0
    body_timeout: float = 30.0
    max_header_size: int = 16 * 1024
    max_body: int = 1024**2
    max_api_body: int = 32 * 1024**2

    def body_cap(self, path: str) -> int:
        """The most a request to this path may send."""
        return self.max_api_body if path.startswith("/api/") else self.max_body


def http_limits(section: dict[str, Any], origins: Origins) -> HttpLimits:
    from vault.config import ConfigError, parse_duration, parse_size

    def where(key: str) -> str:
        return origins("http", key)

    connections = section["max_connections"]
    if isinstance(connections, str) and connections.strip().isdigit():
        connections = int(connections)  # from INVOICEBOT_HTTP_MAX_CONNECTIONS
    if isinstance(connections, bool) or not isinstance(connections, int) or connections < 1:
        raise ConfigError(f"{where('max_connections')}: {connections!r} is not a positive number")
    times = {key: parse_duration(section[key], where(key)).total_seconds()
             for key in ("keep_alive_timeout", "header_timeout", "body_timeout")}
    for key, seconds in times.items():
        if seconds <= 0:
            raise ConfigError(f"{where(key)}: {section[key]!r} must be longer than 0s")
    sizes = {key: parse_size(section[key], where(key))
             for key in ("max_header_size", "max_body", "max_api_body")}
    for key, size in sizes.items():
        if size < 1024:
            raise ConfigError(f"{where(key)}: {section[key]!r} is under 1KB")
    return HttpLimits(
        max_connections=connections, keep_alive_timeout=times["keep_alive_timeout"],
        header_timeout=times["header_timeout"], body_timeout=times["body_timeout"],
        max_header_size=sizes["max_header_size"], max_body=sizes["max_body"],
        max_api_body=sizes["max_api_body"])
