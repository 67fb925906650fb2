"""Faults after the 250, through the running service: the database's write lock held by
another connection, and a full disk. The message stays stored; the scheduled sweep tries
it again with backoff (bot.inbound) and, once the fault clears, it is answered within the
backoff and one sweep interval, without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import asyncpg
import pytest
from tortoise.exceptions import OperationalError

from bot.messages import Request
from bot.pipeline import Answer, Pipeline
from notifier import outbox
from tests.fakes import SmtpSink
from tests.harness import request_mail, until
from tests.hostile.harness import CONTACT, hostile_config, running_service
from vault import db
from vault.config import Config
from vault.models import InboundMessage
from vault.pdf import PdfRenderer

pytestmark = pytest.mark.hostile

RETRY = timedelta(seconds=1)  # the sweep's interval and first backoff (2 min by default)
HOLD = 2.0  # seconds the other connection keeps the write lock (longer than busy_timeout)
SLACK = 3.0  # seconds for one try: reading, answering and the reply's delivery


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite waits 0.3 s for another connection's lock instead of 15: the same failure
    ("database is locked") after a lock of seconds instead of minutes."""
    monkeypatch.setitem(db.SQLITE_PRAGMAS, "busy_timeout", 300)


@contextlib.asynccontextmanager
async def write_lock_held(database_url: str) -> AsyncIterator[None]:
    """Another connection holds the write lock: SQLite's BEGIN IMMEDIATE; on PostgreSQL
    the tables the answer writes, locked against writers."""
    if database_url.startswith("sqlite://"):
        other = sqlite3.connect(database_url.removeprefix("sqlite://"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE outbox_message, inbound_message IN EXCLUSIVE MODE")
            yield
    finally:
        await conn.close()


async def test_a_held_write_lock_after_the_250_is_answered_once_it_is_released(
    short_busy_timeout: None, make_config: Callable[..., Config], sink: SmtpSink,
    renderer: PdfRenderer, orm: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    locked = asyncio.Event()
    real = Pipeline.handle

    async def after_the_lock(self: Pipeline, request: Request) -> Answer:
        await locked.wait()  # the fault arrives between the 250 and the answer
        return await real(self, request)

    monkeypatch.setattr(Pipeline, "handle", after_the_lock)
    loop = asyncio.get_running_loop()
    async with running_service(hostile_config(make_config, sink), sink, renderer,
                               retry=RETRY) as running:
        request = request_mail(CONTACT, "invoices March")
        await running.send(request)  # 250: stored
        async with write_lock_held(orm):
            locked.set()
            await asyncio.sleep(HOLD)  # the fault's length, not a wait for a result
        released = loop.time()
        (reply,) = await sink.wait_for(1, timeout=30)
        waited = loop.time() - released
        print(f"\nanswered {waited:.2f}s after the lock was released")
        assert reply.rcpt_tos == [CONTACT]
        assert waited < RETRY.total_seconds() + SLACK  # the next sweep, no restart
        row = await running.processed(request)
        assert row.outcome == "answered"


async def test_a_full_disk_after_the_250_is_answered_once_space_is_back(
    make_config: Callable[..., Config], sink: SmtpSink, renderer: PdfRenderer, orm: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    full = True
    real = outbox.enqueue

    async def enqueue(*args: object, **kwargs: object) -> object:
        if full:  # what SQLite raises when the disk (or its page limit) is full
            raise OperationalError("database or disk is full")
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(outbox, "enqueue", enqueue)
    loop = asyncio.get_running_loop()
    async with running_service(hostile_config(make_config, sink), sink, renderer,
                               retry=RETRY) as running:
        request = request_mail(CONTACT, "invoices March")
        await running.send(request)  # 250: stored before the disk filled
        key = str(request["Message-ID"]).strip("<>")
        # The failed try is counted in its own statement, outside the try's transaction.
        await until(lambda: InboundMessage.get_or_none(message_key=key, attempts=1))
        full = False
        cleared = loop.time()
        (reply,) = await sink.wait_for(1, timeout=30)
        waited = loop.time() - cleared
        print(f"\nanswered {waited:.2f}s after space came back")
        assert reply.rcpt_tos == [CONTACT]
        # The first backoff (one interval) and the sweep after it, no restart.
        assert waited < 2 * RETRY.total_seconds() + SLACK
        row = await running.processed(request)
        assert (row.outcome, row.attempts) == ("answered", 1)
