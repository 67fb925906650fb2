"""Can this process still write? The database and the vault, probed for real.

Used at start-up (refuse to start, exit 2, rather than accept mail and answer 451 to all of
it) and by /readyz (a load balancer stops sending traffic to a node that cannot store it).
A probe writes and rolls back, or creates and removes a file: permissions alone would lie
for root, and for read-only mounts and immutable files.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from pathlib import Path

from tortoise import connections
from tortoise.backends.base.config_generator import expand_db_url


def sqlite_path(database_url: str) -> Path | None:
    """The SQLite file behind database.url, or None for PostgreSQL or memory."""
    connection = expand_db_url(database_url)
    if connection["engine"] != "tortoise.backends.sqlite":
        return None
    path = connection["credentials"]["file_path"]
    return None if path == ":memory:" else Path(path)


async def database_problem(database_url: str) -> str | None:
    """Why the database cannot be written now, or None when it can."""
    path = sqlite_path(database_url)
    if path is not None:
        # A fresh connection: the service's own, opened earlier, may still write into its
        # WAL for a while after the file became read-only, and fail only at a checkpoint.
        return await asyncio.to_thread(_sqlite_problem, path)
    try:
        _, rows = await connections.get("default").execute_query(
            "SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') "
            "AS read_only")
    except Exception as exc:  # a lost connection is a problem too; the message says which
        return f"query failed: {exc}"
    if rows and (rows[0]["standby"] or rows[0]["read_only"] == "on"):
        return "the server accepts reads only (a standby, or default_transaction_read_only)"
    return None


def _sqlite_problem(path: Path) -> str | None:
    # The file first: SQLite shares one open descriptor per file within a process, so once
    # the service has it open a new connection writes through that, and would not notice.
    # access(), not open() and close(): closing any descriptor of the file would drop the
    # process's POSIX locks on it, and another process could then corrupt the database.
    # It reports a read-only mount (EROFS) and an immutable file (EPERM) to root too.
    for place in (path, path.parent):
        if place.exists() and not os.access(place, os.W_OK):
            return f"{place.name}: {_why_not_writable(place)}"
    try:
        connection = sqlite3.connect(path, isolation_level=None, timeout=5)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        connection.execute("BEGIN IMMEDIATE")
        try:  # rewriting the header's user_version is a real write, then rolled back
            connection.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            connection.execute("ROLLBACK")
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        connection.close()
    return None


def vault_problem(root: Path) -> str | None:
    """Why no document can be stored under the vault now, or None when one can."""
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(dir=root, prefix=".write-probe-")
        os.close(descriptor)
        os.unlink(probe)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _why_not_writable(place: Path) -> str:
    try:  # the same check, for its errno: access() itself only says no
        os.utime(place, None)
    except OSError as exc:
        return exc.strerror or "not writable"
    return "not writable"
