"""Database set-up: one Tortoise configuration for SQLite (embedded) and PostgreSQL.

SQLite runs in WAL mode with synchronous=FULL so a commit is on disk before we answer
SMTP 250, and with a busy timeout so `invoicebot import` in another process waits for
the service's short transactions instead of failing.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
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


def _forget_cached_sql() -> None:
    """Tortoise caches each model's INSERT by connection name, not by engine: a process
    that opened a SQLite database and then a PostgreSQL one under the same name ("default")
    would send SQLite's `?` placeholders to PostgreSQL. Opening a database forgets it."""
    EXECUTOR_CACHE.clear()


async def migrate(database_url: str) -> None:
    """Create or upgrade the schema with Tortoise's built-in migrations."""
    _forget_cached_sql()
    await run_migrations(config=tortoise_config(database_url))
    await Tortoise.close_connections()


async def connect(database_url: str) -> None:
    """Open the ORM for this process.

    The global fallback lets tasks that do not descend from this one (SMTP sessions,
    HTTP requests, scheduler jobs) see the same context.
    """
    _forget_cached_sql()
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close() -> None:
    await Tortoise.close_connections()


def display(database_url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, sep, rest = database_url.partition("://")
    userinfo, at, place = rest.rpartition("@")
    if not at:
        return database_url
    return f"{scheme}{sep}{userinfo.partition(':')[0]}@{place}"


async def unknown_migrations() -> str | None:
    """Migrations the database has that this code does not: it was upgraded by a newer
    invoicebot, and this one would misread its schema. None when all are known."""
    import vault.migrations

    known = {m.name for m in pkgutil.iter_modules(vault.migrations.__path__)}
    _, rows = await connections.get("default").execute_query(
        "SELECT name FROM tortoise_migrations WHERE app = 'vault'")
    unknown = sorted(row["name"] for row in rows if row["name"] not in known)
    if not unknown:
        return None
    return (f"the schema has migration {unknown[-1]} that this invoicebot does not know "
            "(upgraded by a newer version?); run the newer version, or restore a backup")
