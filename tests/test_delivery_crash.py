"""A delivery process killed between the relay's 250 and marking the row sent.

The worker is a real OS process (tests.delivery_worker) sharing the test's database
(SQLite file, or PostgreSQL with INVOICEBOT_TEST_DATABASE_URL) and sending to the real
SMTP sink in this process. It reports "accepted <msg-id>" right after the relay accepted
its Nth message and then waits, so the SIGKILL lands in that window every time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.outbox import enqueue_many
from tests.fakes import SmtpSink
from tests.test_outbox import mail
from tests.workers import WorkerProcess, Workers, check_invariant
from vault.models import OutboxMessage
from vault.vocabulary import OutboxState

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
ENQUEUED = 20


def arrived(sink: SmtpSink) -> Counter[str]:
    """Message-IDs the relay accepted, with how often."""
    return Counter(str(r.message["Message-ID"]).strip("<>") for r in sink.messages)


@pytest.fixture
async def workers(orm: str, sink: SmtpSink, tmp_path: Path) -> AsyncIterator[Workers]:
    async with Workers(orm, sink.port, tmp_path) as started:
        yield started


async def run_worker(workers: Workers, name: str, at: datetime,
                     *options: str) -> WorkerProcess:
    """A draining worker with a frozen clock: the lease runs out when we say so."""
    return await workers.start(name, "--now", at.isoformat(), "--claim", "5",
                               "--lease", str(LEASE.total_seconds()), *options)


async def test_killed_after_the_relay_accepted_means_one_duplicate_and_nothing_lost(
    orm: str, sink: SmtpSink, workers: Workers
) -> None:
    await enqueue_many((mail(f"alert:{n}", f"c{n}@example.com", f"alert {n}", kind="alert")
                        for n in range(ENQUEUED)), now=T0)
    ids = {row.key: row.message_id for row in await OutboxMessage.all()}
    assert len(set(ids.values())) == ENQUEUED
    await check_invariant(ENQUEUED)

    # 1. The worker claims 5 rows, sends 3; the relay accepts the third, and the process
    #    is killed before it could mark that row sent.
    first = await run_worker(workers, "first", T0, "--pause-after", "3")
    in_flight = await first.expect("accepted")
    await sink.wait_for(3)
    await first.kill()
    assert arrived(sink) == Counter({ids["alert:0"]: 1, ids["alert:1"]: 1, in_flight: 1})
    assert in_flight == ids["alert:2"]
    held = await OutboxMessage.get(message_id=in_flight)
    assert (held.state, held.attempts) == (OutboxState.SENDING, 1)  # accepted, never marked
    counts = await check_invariant(ENQUEUED)
    assert (counts[OutboxState.SENT], counts[OutboxState.SENDING],
            counts[OutboxState.PENDING]) == (2, 3, 15)

    # 2. Within the dead worker's lease, a new worker sends everything else but leaves
    #    the dead worker's rows alone.
    second = await run_worker(workers, "second", T0 + LEASE / 5)
    assert int(await second.expect("sent")) == 15
    await second.process.wait()
    assert len(sink.messages) == 18 and max(arrived(sink).values()) == 1
    counts = await check_invariant(ENQUEUED)
    assert (counts[OutboxState.SENT], counts[OutboxState.SENDING]) == (17, 3)

    # 3. Once that lease has run out, its rows are taken again: the one in flight is sent
    #    a second time with the same Message-ID, and nothing else twice.
    third = await run_worker(workers, "third", T0 + LEASE + timedelta(seconds=1))
    assert int(await third.expect("sent")) == 3
    await third.process.wait()
    counts = await check_invariant(ENQUEUED)
    assert counts == Counter({OutboxState.SENT: ENQUEUED})
    assert set(arrived(sink)) == set(ids.values())  # nothing lost
    assert [i for i, n in arrived(sink).items() if n > 1] == [in_flight]  # one duplicate
    assert arrived(sink)[in_flight] == 2
    twice = [r.message for r in sink.messages if r.message["Message-ID"] == f"<{in_flight}>"]
    assert twice[0].as_bytes() == twice[1].as_bytes()  # the very same message
    assert (await OutboxMessage.get(message_id=in_flight)).attempts == 2
