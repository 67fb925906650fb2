"""Two delivery processes, each with its own APScheduler triggering the stateless dispatch
tick, on one database and one relay: each notification is delivered exactly once.

On PostgreSQL (INVOICEBOT_TEST_DATABASE_URL) that is the production set-up for more than
one instance: claims use FOR UPDATE SKIP LOCKED and the conditional update.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from notifier.outbox import enqueue_many
from tests.fakes import SmtpSink
from tests.harness import until
from tests.scratchdb import PG_URL
from tests.test_outbox import mail
from tests.workers import Workers, check_invariant, states
from vault.clock import SYSTEM
from vault.models import OutboxMessage
from vault.vocabulary import OutboxState

TICK = "0.05"  # seconds between scheduler ticks in each worker


@pytest.fixture
async def workers(orm: str, sink: SmtpSink, tmp_path: Path) -> AsyncIterator[Workers]:
    async with Workers(orm, sink.port, tmp_path) as started:
        yield started


async def two_schedulers_deliver(count: int, sink: SmtpSink, workers: Workers) -> list[int]:
    """Queue `count` alerts, run two scheduler processes until all are sent; check that
    the relay got each Message-ID once; returns how many each process sent."""
    await enqueue_many((mail(f"alert:{n}", f"c{n}@example.com", f"alert {n}", kind="alert")
                        for n in range(count)), now=SYSTEM.now())
    ids = set(await OutboxMessage.all().values_list("message_id", flat=True))
    started = await asyncio.gather(*(workers.start(name, "--scheduler", TICK)
                                     for name in ("a", "b")))
    for worker in started:
        await worker.tell("go")  # both are connected; start ticking together
    await sink.wait_for(count, timeout=60)

    async def all_sent() -> bool:
        return (await states())[OutboxState.SENT] == count

    await until(all_sent, timeout=30)
    sent = [await worker.finish() for worker in started]  # finishes any running tick
    arrived = Counter(str(r.message["Message-ID"]).strip("<>") for r in sink.messages)
    assert set(arrived) == ids and len(ids) == count  # every one arrived ...
    assert max(arrived.values()) == 1  # ... exactly once
    assert sum(sent) == count
    assert await check_invariant(count) == Counter({OutboxState.SENT: count})
    return sent


async def test_two_schedulers_on_postgresql_deliver_1000_each_exactly_once(
    orm: str, sink: SmtpSink, workers: Workers
) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL: set INVOICEBOT_TEST_DATABASE_URL=postgres://USER@HOST/DB "
                    "to run two delivery processes against one PostgreSQL database")
    sent = await two_schedulers_deliver(1000, sink, workers)
    assert min(sent) > 0, f"one process sent everything: {sent}"  # they really shared


async def test_on_sqlite_two_delivery_processes_take_turns_and_send_each_once(
    orm: str, sink: SmtpSink, workers: Workers
) -> None:
    """SQLite means one service instance (one writer at a time, no SKIP LOCKED), but the
    outbox does not rely on that to send each message once: a second process on the same
    file, like `invoicebot import` or a stray second instance, makes claims wait for the
    write lock instead of failing with "database is locked" or sending twice."""
    if PG_URL:
        pytest.skip("SQLite only: the suite runs on PostgreSQL")
    await two_schedulers_deliver(300, sink, workers)
    for log in workers.logs.glob("*.log"):
        assert "Traceback" not in log.read_text(), log.read_text()
