"""The outbox and its senders: each message delivered once, retried when worth it, and
AR told when it never will be. Delivery goes over real SMTP to a local sink."""

from __future__ import annotations

import asyncio
import mailbox
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest

from notifier import outbox
from notifier.delivery import (
    DeliveryError,
    MaildirSender,
    SmtpSender,
    dispatch_once,
    sender_for,
)
from notifier.email_send import wire
from notifier.message import MailHeaders, Outgoing, Section
from notifier.outbox import (
    claim,
    enqueue,
    enqueue_many,
    mark_failed,
    mark_sent,
    retry_delay,
    try_claim,
)
from tests.fakes import SmtpSink
from vault.models import Escalation, OutboxMessage
from vault.vocabulary import Channel, OutboxKind, OutboxState

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def mail(key: str, to: str = "alice@example.com", text: str = "INV-1042 is attached.",
         kind: str = "reply", contact_id: int | None = None) -> Outgoing:
    """A one-paragraph email, as the composers make them."""
    return Outgoing(kind=OutboxKind(kind), channel=Channel.EMAIL, recipient=to, key=key,
                    title="Your invoices", sections=(Section(text=(text,)),),
                    contact_id=contact_id, mail=MailHeaders(sender="invoices@localhost"))


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


@pytest.fixture
def smtp(sink: SmtpSink) -> SmtpSender:
    return SmtpSender("127.0.0.1", sink.port, timeout=5, envelope_from="invoices@localhost")


async def reload(row: OutboxMessage) -> OutboxMessage:
    return await OutboxMessage.get(id=row.id)


# ---- enqueue ---------------------------------------------------------------------------------

async def test_enqueue_twice_with_one_key_queues_and_sends_once(
    orm: str, sink: SmtpSink, smtp: SmtpSender
) -> None:
    first = await enqueue(mail("reply:inbound:1", "alice@example.com"),
                          now=NOW)
    second = await enqueue(mail("reply:inbound:1", "alice@example.com", text="something else"),
                           now=NOW)
    assert second.id == first.id and second.payload == first.payload
    assert await dispatch_once(smtp, now=NOW) == 1
    assert await dispatch_once(smtp, now=NOW + timedelta(hours=1)) == 0
    assert len(await sink.wait_for(1)) == 1


async def test_message_id_is_in_the_row_and_every_rendering(orm: str) -> None:
    made = await enqueue(mail("k1", "a@example.com"), now=NOW)
    assert made.message_id.endswith("@localhost")
    assert parsed(made.payload)["Message-ID"] == f"<{made.message_id}>"
    assert parsed(made.payload)["Date"].datetime == NOW  # when it was queued, every retry
    given = await enqueue(replace(mail("k2", "a@example.com"), message_id="<x.1@localhost>"),
                          now=NOW)
    assert given.message_id == "x.1@localhost"
    assert parsed(given.payload)["Message-ID"] == "<x.1@localhost>"
    chat = await enqueue(replace(mail("k3", "U123"), channel=Channel.SLACK, mail=None), now=NOW)
    assert len(chat.message_id) == 32  # a random id: chat has no Message-ID


async def test_enqueue_many_queues_each_key_once_with_its_message_id(orm: str) -> None:
    await enqueue(mail("alert:1", "a@example.com", kind="alert"), now=NOW)
    batch = [mail(f"alert:{n}", f"c{n}@example.com", kind="alert", contact_id=None)
             for n in range(5)]
    batch.append(mail("alert:2", "c2@example.com", kind="alert"))  # repeated
    assert await enqueue_many(batch, now=NOW, chunk=2) == 4  # alert:1 was queued before
    assert await enqueue_many(batch, now=NOW) == 0
    rows = await OutboxMessage.filter(key__startswith="alert:").order_by("key")
    assert [row.key for row in rows] == [f"alert:{n}" for n in range(5)]
    for row in rows:
        assert parsed(row.payload)["Message-ID"] == f"<{row.message_id}>"
        if row.key != "alert:1":  # queued by enqueue, to a@example.com
            assert (row.state, row.next_attempt_at, parsed(row.payload)["To"]) == (
                OutboxState.PENDING, NOW, row.recipient)


def parsed(payload: bytes) -> EmailMessage:
    """An outbox payload as the recipient gets it (rendered as the senders do)."""
    message: EmailMessage = message_from_bytes(wire(bytes(payload)), policy=default_policy)  # type: ignore[assignment]
    return message


# ---- claiming ----------------------------------------------------------------------------------

async def test_two_workers_reading_the_same_row_claim_it_once(orm: str) -> None:
    row = await enqueue(mail("k", "a@example.com"), now=NOW)
    seen_by_a, seen_by_b = await reload(row), await reload(row)  # both read it as pending
    assert await try_claim(seen_by_a, LEASE, NOW)
    assert not await try_claim(seen_by_b, LEASE, NOW)
    assert (await reload(row)).attempts == 1


async def test_concurrent_claimers_get_each_row_exactly_once(orm: str) -> None:
    for n in range(12):
        await enqueue(mail(f"k{n}", f"c{n}@example.com", kind="notice"), now=NOW)
    batches = await asyncio.gather(*(claim(5, LEASE, NOW) for _ in range(4)))
    ids = [row.id for batch in batches for row in batch]
    assert len(ids) == len(set(ids)) == 12
    assert await claim(5, LEASE, NOW) == []  # all leased


async def test_rows_are_not_claimed_before_they_are_due(orm: str) -> None:
    await enqueue(mail("k", "a@example.com"), now=NOW)
    assert await claim(5, LEASE, NOW - timedelta(seconds=1)) == []
    assert len(await claim(5, LEASE, NOW)) == 1


async def test_expired_lease_is_claimed_again(orm: str) -> None:
    await enqueue(mail("k", "a@example.com"), now=NOW)
    (taken,) = await claim(1, LEASE, NOW)  # ... and this worker dies
    assert await claim(1, LEASE, NOW + LEASE - timedelta(seconds=1)) == []
    later = NOW + LEASE + timedelta(seconds=1)
    assert await claim(1, LEASE, later, reclaim=False) == []  # new and retried rows only
    (again,) = await claim(1, LEASE, later)
    assert again.id == taken.id and again.attempts == 2
    assert not await mark_sent(taken, NOW)  # the first worker lost its lease
    assert await mark_sent(again, NOW)
    assert (await reload(again)).state == OutboxState.SENT


async def test_renewing_keeps_only_rows_still_held(orm: str) -> None:
    for n in range(3):
        await enqueue(mail(f"k{n}", f"c{n}@example.com", kind="notice"), now=NOW)
    first, second, third = await claim(3, LEASE, NOW)
    later = NOW + LEASE + timedelta(seconds=1)  # the lease ran out ...
    (taken,) = await claim(1, LEASE, later)  # ... and another worker took the first row
    assert taken.id == first.id
    held = await outbox.renew([first, second, third], LEASE, later)
    assert [row.id for row in held] == [second.id, third.id]
    assert {(await reload(row)).lease_until for row in held} == {later + LEASE}
    assert await claim(5, LEASE, later + LEASE - timedelta(seconds=1)) == []
    assert await mark_sent(second, later) and not await mark_sent(first, later)


async def test_a_wave_s_deliveries_are_recorded_together_except_a_row_another_took(
    orm: str
) -> None:
    for n in range(4):
        await enqueue(mail(f"k{n}", f"c{n}@example.com", kind="notice"), now=NOW)
    rows = await claim(4, LEASE, NOW)
    assert await outbox.mark_sent_many(rows[:2], NOW) == [True, True]  # one statement
    later = NOW + LEASE + timedelta(seconds=1)  # the lease ran out ...
    (taken,) = await claim(1, LEASE, later)  # ... and another worker took the third row
    assert taken.id == rows[2].id
    assert await outbox.mark_sent_many(rows[2:], later) == [False, True]
    states = [(await reload(row)).state for row in rows]
    assert states == [OutboxState.SENT, OutboxState.SENT, OutboxState.SENDING,
                      OutboxState.SENT]
    assert (await reload(taken)).lease_until == later + LEASE  # the other worker's, untouched


async def test_dispatch_takes_only_its_own_channel(orm: str, tmp_path: Path) -> None:
    await enqueue(replace(mail("slack", "U123"), channel=Channel.SLACK, mail=None), now=NOW)
    assert await dispatch_once(MaildirSender(tmp_path / "md"), now=NOW) == 0
    assert (await OutboxMessage.get(key="slack")).state == OutboxState.PENDING


# ---- retries -----------------------------------------------------------------------------------

async def test_gives_up_after_max_attempts(orm: str) -> None:
    row = await enqueue(mail("k", "alice@example.com"), now=NOW)
    at = NOW
    for _ in range(outbox.MAX_ATTEMPTS):
        (taken,) = await claim(1, LEASE, at)
        assert await mark_failed(taken, "421 4.7.0 busy", permanent=False, now=at)
        at = (await reload(taken)).next_attempt_at
    dead = await reload(row)
    assert (dead.state, dead.attempts) == (OutboxState.DEAD, outbox.MAX_ATTEMPTS)
    assert await Escalation.filter(kind="dead_delivery").count() == 1


def test_retry_delay_doubles_up_to_a_cap_with_jitter() -> None:
    for attempts in range(1, 30):
        full = min(outbox.MAX_DELAY, outbox.BASE_DELAY * 2 ** min(attempts - 1, 20))
        assert full * 0.75 <= retry_delay(attempts) <= full
    assert retry_delay(1) <= outbox.BASE_DELAY < retry_delay(3)


# ---- maildir and configuration ----------------------------------------------------------------

async def test_maildir_sender_writes_a_file_that_parses_as_the_message(
    orm: str, tmp_path: Path
) -> None:
    row = await enqueue(mail("k", "alice@example.com"), now=NOW)
    assert await dispatch_once(MaildirSender(tmp_path / "outbox"), now=NOW) == 1
    (path,) = (tmp_path / "outbox" / "new").iterdir()
    written = parsed(path.read_bytes())
    assert written["Message-ID"] == f"<{row.message_id}>"
    assert written["To"] == "alice@example.com"
    assert text_of(written) == "INV-1042 is attached.\n"
    assert len(mailbox.Maildir(tmp_path / "outbox", create=False)) == 1


async def test_unwritable_maildir_is_a_temporary_failure(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(DeliveryError) as failed:
        await MaildirSender(tmp_path / "file" / "outbox").send("a@example.com", b"x")
    assert not failed.value.permanent


def test_sender_for_reads_email_outbound(tmp_path: Path) -> None:
    maildir = sender_for(f"maildir:{tmp_path}/out")
    assert isinstance(maildir, MaildirSender) and maildir.path == tmp_path / "out"
    relay = sender_for("smtp://127.0.0.1:2600", envelope_from="invoices@localhost")
    assert isinstance(relay, SmtpSender)
    assert (relay.host, relay.port, relay.envelope_from) == (
        "127.0.0.1", 2600, "invoices@localhost")
    with pytest.raises(ValueError):
        sender_for("http://example.com")
