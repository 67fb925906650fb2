"""Leases, claims and turns (vault.leases), on both databases: one holder at a time, a
dead holder's lease and claims taken over once expired, and SQLite held by one serve."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from tortoise import connections

from bot.inbound import InboundQueue, Origin
from notifier import outbox
from notifier.outbox import enqueue
from tests.harness import fixed_clock
from tests.scratchdb import PG_URL
from tests.test_outbox import mail
from vault import db
from vault.leases import INSTANCE, Keeper, SecondInstance, Turns, claimable, hold_sqlite, take
from vault.models import InboundMessage, Lease
from vault.vocabulary import Channel

TTL = timedelta(seconds=15)


async def test_a_lease_has_one_holder_until_it_expires_then_another_takes_it(orm: str) -> None:
    now = fixed_clock().now()
    assert await take("telegram-polling", "a", TTL, now)
    assert not await take("telegram-polling", "b", TTL, now + TTL - timedelta(seconds=1))
    assert await take("telegram-polling", "a", TTL, now + timedelta(seconds=5))  # renewed
    assert not await take("telegram-polling", "b", TTL, now + TTL + timedelta(seconds=1))
    later = now + timedelta(seconds=5) + TTL + timedelta(seconds=1)  # a stopped renewing
    assert await take("telegram-polling", "b", TTL, later)
    lease = await Lease.get(name="telegram-polling")
    assert (lease.holder, lease.taken_at, lease.expires_at) == ("b", later, later + TTL)
    assert not await take("telegram-polling", "a", TTL, later)  # a came back: too late


async def test_a_keeper_starts_the_work_and_a_standby_takes_it_over_when_it_stops(
    orm: str,
) -> None:
    clock, log = fixed_clock(), []

    def work(who: str, what: str):  # type: ignore[no-untyped-def]
        async def record() -> None:
            log.append(f"{who} {what}")
        return record

    holder = Keeper("slack-socket", "a", TTL, clock, work("a", "on"), work("a", "off"))
    standby = Keeper("slack-socket", "b", TTL, clock, work("b", "on"), work("b", "off"))
    await holder.tick()
    await standby.tick()
    assert log == ["a on"] and holder.holding and not standby.holding
    clock.at += TTL + timedelta(seconds=1)  # a was killed: it renewed no more
    await standby.tick()
    assert standby.holding and log == ["a on", "b on"]
    await holder.tick()  # a's renewal fails: b holds it now, so a stops its work
    assert not holder.holding and log == ["a on", "b on", "a off"]
    await standby.stop()  # a clean stop: released at once, no wait for the expiry
    assert log[-1] == "b off" and not await Lease.filter(name="slack-socket").exists()


async def test_rows_claimed_by_a_dead_instance_can_be_claimed_and_a_live_ones_not(
    orm: str,
) -> None:
    now = fixed_clock().now()
    await take(INSTANCE + "live", "live", TTL, now)
    await take(INSTANCE + "dead", "dead", TTL, now - 2 * TTL)
    for key, by in (("m1", ""), ("m2", "live"), ("m3", "dead"), ("m4", "me")):
        await InboundMessage.create(message_key=key, raw_message=b"", peer="127.0.0.1",
                                    rcpt_tos=[], received_at=now, claimed_by=by)
    free = await InboundMessage.filter(claimable("me", now)).order_by("id") \
        .values_list("message_key", flat=True)
    assert free == ["m1", "m3", "m4"]


async def test_a_tick_runs_in_one_instance_at_a_time_on_postgresql(orm: str) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL only: on SQLite one instance runs every tick")
    credentials = db.tortoise_config(orm)["connections"]["default"]["credentials"]
    first, second = Turns(), Turns()
    await first.open(credentials)
    await second.open(credentials)
    try:
        async with first.turn("alerts") as ours:
            assert ours
            async with second.turn("alerts") as theirs:
                assert not theirs  # skipped, not waited for
            async with second.turn("digests") as other_tick:
                assert other_tick
        async with second.turn("alerts") as theirs:
            assert theirs  # released when the tick ended
    finally:
        await first.close()
        await second.close()


async def test_ticks_keep_taking_turns_after_the_database_dropped_the_connection(
    orm: str,
) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL only: on SQLite one instance runs every tick")
    turns = Turns()
    await turns.open(db.tortoise_config(orm)["connections"]["default"]["credentials"])
    try:
        pid = turns._connection.get_server_pid()
        await connections.get("default").execute_query(f"SELECT pg_terminate_backend({pid})")
        for _ in range(2):  # the first try may be what finds the connection gone
            with contextlib.suppress(Exception):
                async with turns.turn("alerts") as ours:
                    assert ours
                    break
        else:
            raise AssertionError("no turn after the connection was dropped")
    finally:
        await turns.close()


def reopen(database: Path) -> None:
    """Held and let go again: nobody else holds it."""
    again = hold_sqlite(database)
    assert again is not None
    again.close()


def test_a_second_holder_of_a_sqlite_database_is_refused_until_the_first_ends(
    tmp_path: Path,
) -> None:
    database = tmp_path / "invoicebot.db"
    held = hold_sqlite(database)
    assert held is not None
    with pytest.raises(SecondInstance, match=r"another invoicebot serve \(pid \d+\)"):
        hold_sqlite(database)
    held.close()
    reopen(database)
    # The kernel releases it when the holding process dies, however it dies.
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from vault.leases import hold_sqlite; "
        f"held = hold_sqlite(Path({str(database)!r})); print('held', flush=True); "
        "time.sleep(60)")],
        stdout=subprocess.PIPE, cwd=Path(__file__).parents[1])
    try:
        assert child.stdout is not None and child.stdout.readline() == b"held\n"
        with pytest.raises(SecondInstance):
            hold_sqlite(database)
    finally:
        child.kill()
        child.communicate()  # reaps it and closes its pipe
    reopen(database)


async def test_a_message_claimed_by_a_live_instance_waits_until_that_instance_dies(
    orm: str,
) -> None:
    clock, handled = fixed_clock(), []

    async def handle(row: InboundMessage) -> str:
        handled.append(row.message_key)
        await queue.mark_processed(row.id, "answered")
        return "answered"

    async def origin(row: InboundMessage) -> Origin:
        return Origin(Channel.EMAIL, row.message_key, row.mail_from)

    queue = InboundQueue(InboundMessage, handle, origin, clock)
    queue.claimant = "me"
    for name in ("me", "other"):
        await take(INSTANCE + name, name, TTL, clock.now())
    row = await InboundMessage.create(message_key="m1", raw_message=b"", peer="127.0.0.1",
                                      rcpt_tos=[], received_at=clock.now(), claimed_by="other")
    assert await queue.process(row.id) == "processed or claimed by another instance"
    assert await queue.requeue() == 0 and handled == []
    clock.at += TTL + timedelta(seconds=1)  # "other" was killed; "me" renewed its lease
    await take(INSTANCE + "me", "me", TTL, clock.now())
    assert await queue.requeue() == 1
    assert await queue.process(row.id) == "answered" and handled == ["m1"]
    assert (await InboundMessage.get(id=row.id)).claimed_by == "me"


async def test_outgoing_messages_a_dead_instance_held_are_sent_before_their_own_lease_ends(
    orm: str,
) -> None:
    now = fixed_clock().now()
    await enqueue(mail("reply:1", "ap@acme.example", "your invoices"), now=now)
    for name in ("me", "other"):
        await take(INSTANCE + name, name, TTL, now)
    (held,) = await outbox.claim(10, timedelta(minutes=5), now, claimant="other")
    assert await outbox.claim(10, timedelta(minutes=5), now, claimant="me") == []
    later = now + TTL + timedelta(seconds=1)  # "other" died; its 5-minute lease still runs
    await take(INSTANCE + "me", "me", TTL, later)
    (taken,) = await outbox.claim(10, timedelta(minutes=5), later, claimant="me")
    assert taken.id == held.id and taken.attempts == 2
    assert not await outbox.mark_sent(held, later)  # the dead one's claim is void
    assert await outbox.mark_sent(taken, later)
