"""Database set-up: one Tortoise configuration for SQLite (embedded) and PostgreSQL.

SQLite runs in WAL mode with synchronous=FULL so a commit is on disk before we answer
SMTP 250, and with a busy timeout so `invoicebot import` in another process waits for
the service's short transactions instead of failing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import ConfigurationError
from tortoise.migrations.api import migrate as run_migrations

from vault.config import ConfigError

SQLITE_PRAGMAS = {"journal_mode": "WAL", "synchronous": "FULL", "busy_timeout": 15000}


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config dict for a database URL (sqlite://PATH or postgres://...)."""
    try:
        connection = expand_db_url(database_url)
    except ConfigurationError as exc:
        raise ConfigError(f"database.url: {database_url!r}: {exc}") from exc
    if connection["engine"] == "tortoise.backends.sqlite":
        file_path = connection["credentials"]["file_path"]
        if file_path != ":memory:":
            Path(file_path).parent.mkdir(parents=True, exist_ok=True)
        connection["credentials"].update(SQLITE_PRAGMAS)
    return {
        "connections": {"default": connection},
        "apps": {
            "vault": {
                "models": ["vault.models"],
                "default_connection": "default",
                "migrations": "vault.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(database_url: str) -> None:
    """Create or upgrade the schema with Tortoise's built-in migrations."""
    await run_migrations(config=tortoise_config(database_url))
    await Tortoise.close_connections()


async def connect(database_url: str) -> None:
    """Open the ORM for this process.

    The global fallback lets tasks that do not descend from this one (SMTP sessions,
    HTTP requests, scheduler jobs) see the same context.
    """
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close() -> None:
    await Tortoise.close_connections()
