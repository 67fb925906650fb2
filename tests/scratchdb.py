"""Scratch PostgreSQL databases: one per test session, or one for a module that needs its
own, made on the server INVOICEBOT_TEST_DATABASE_URL names and dropped afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator

PG_URL = os.environ.get("INVOICEBOT_TEST_DATABASE_URL", "")


@contextlib.contextmanager
def scratch_pg(prefix: str) -> Iterator[str]:
    """The URL of a new, empty database named `prefix_<random>`, dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    base, _, _ = PG_URL.rpartition("/")
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
