"""Delivery over real SMTP to a local sink: refusals attributed to their own message, a
relay that is down or silent, and connections kept across sends and rounds, also when
the relay drops them."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from email.parser import BytesHeaderParser
from typing import Any

import pytest

from notifier import outbox
from notifier.delivery import (
    LEASE,
    DeliveryError,
    SmtpSender,
    dispatch_due,
    dispatch_once,
    next_wave,
)
from notifier.message import MailHeaders, dumps
from notifier.outbox import enqueue
from notifier.smtp_pool import KEEP
from tests.fakes import DROP, SmtpSink
from tests.test_outbox import NOW, mail, reload, text_of
from vault.clock import SYSTEM
from vault.models import Account, AuditEvent, Contact, Escalation, OutboxMessage
from vault.vocabulary import OutboxState


@pytest.fixture
def smtp(sink: SmtpSink) -> SmtpSender:
    """One connection, one message at a time: these tests are about what happens on a
    connection messages share (the default sends on several at once: see the end)."""
    return SmtpSender("127.0.0.1", sink.port, timeout=5, envelope_from="invoices@localhost",
                      keep=1)


@pytest.fixture
def parallel_smtp(sink: SmtpSink) -> SmtpSender:
    """As the service makes it: up to notifier.smtp_pool.KEEP connections, one message each."""
    return SmtpSender("127.0.0.1", sink.port, timeout=5, envelope_from="invoices@localhost")


async def queue(count: int) -> list[OutboxMessage]:
    return [await enqueue(mail(f"k{n}", f"c{n}@example.com", f"message {n}", kind="notice"),
                          now=NOW) for n in range(count)]


async def test_temporary_refusal_is_retried_and_delivered_once(
    orm: str, sink: SmtpSink, smtp: SmtpSender
) -> None:
    sink.answer("451 4.3.0 try later")
    row = await enqueue(mail("k", "alice@example.com"), now=NOW)
    assert await dispatch_once(smtp, now=NOW) == 0
    failed = await reload(row)
    assert (failed.state, failed.attempts) == (OutboxState.FAILED, 1)
    assert failed.next_attempt_at > NOW and "451" in failed.last_error
    assert await dispatch_once(smtp, now=NOW) == 0  # not due yet
    assert await dispatch_once(smtp, now=failed.next_attempt_at) == 1
    ((mail_from, rcpt_tos, message),) = await sink.wait_for(1)
    assert (mail_from, rcpt_tos) == ("invoices@localhost", ["alice@example.com"])
    assert "INV-1042 is attached." in text_of(message)
    # the same Message-ID on both attempts, so a recipient could dedupe
    ids = {str(attempt["Message-ID"]) for attempt in sink.attempts}
    assert ids == {f"<{row.message_id}>"} and len(sink.attempts) == 2
    done = await reload(row)
    assert (done.state, done.sent_at, done.last_error) == (
        OutboxState.SENT, failed.next_attempt_at, "")


@pytest.mark.parametrize("at", ["RCPT", "DATA"])
async def test_permanent_refusal_is_dead_audited_and_escalated(
    orm: str, sink: SmtpSink, smtp: SmtpSender, at: str
) -> None:
    account = await Account.create(account_id="ACME", name="Acme")
    contact = await Contact.create(account=account, email="alice@example.com")
    sink.answer("550 5.1.1 no such user", at=at)
    row = await enqueue(mail("k", "alice@example.com", contact_id=contact.id), now=NOW)
    assert await dispatch_once(smtp, now=NOW) == 0
    dead = await reload(row)
    assert dead.state == OutboxState.DEAD and "550 5.1.1 no such user" in dead.last_error
    assert await dispatch_once(smtp, now=NOW + timedelta(days=1)) == 0
    event = await AuditEvent.get(action="notifier.delivery.dead")
    assert (event.account_id, event.contact_id) == (account.id, contact.id)
    assert event.data["outbox_id"] == row.id
    escalation = await Escalation.get(kind="dead_delivery")
    assert (escalation.address, escalation.contact_id) == ("alice@example.com", contact.id)
    assert "INV-1042" not in escalation.summary + str(event.data)


async def test_relay_down_is_retried_after_it_is_back(
    orm: str, sink: SmtpSink, smtp: SmtpSender
) -> None:
    row = await enqueue(mail("k", "alice@example.com"), now=NOW)
    await sink.stop()
    assert await dispatch_once(smtp, now=NOW) == 0
    failed = await reload(row)
    assert failed.state == OutboxState.FAILED and failed.next_attempt_at > NOW
    await sink.start()
    assert await dispatch_once(smtp, now=failed.next_attempt_at) == 1
    assert len(await sink.wait_for(1)) == 1


async def test_silent_relay_times_out_as_temporary(orm: str) -> None:
    async def never_greets(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # say nothing until the client gives up
        writer.close()

    server = await asyncio.start_server(never_greets, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(DeliveryError) as failed:
            await SmtpSender("127.0.0.1", port, timeout=0.2).send(
                "a@example.com", dumps(mail("k").stamped("k.1@localhost", NOW)))
    finally:
        server.close()
        await server.wait_closed()
    assert not failed.value.permanent


# ---- one connection per round ---------------------------------------------------------------

async def test_a_round_shares_one_connection_and_each_row_is_sent_once(
    orm: str, sink: SmtpSink, smtp: SmtpSender
) -> None:
    rows = await queue(12)
    assert await dispatch_once(smtp, now=NOW, claim=5) == 12
    received = await sink.wait_for(12)
    assert sink.connections == 1
    assert sorted(str(r.message["Message-ID"]) for r in received) == sorted(
        f"<{row.message_id}>" for row in rows)
    assert {(await reload(row)).state for row in rows} == {OutboxState.SENT}
    assert await dispatch_once(smtp, now=NOW) == 0 and sink.connections == 1


@pytest.mark.parametrize(("at", "reply_", "state"), [
    ("RCPT", "550 5.1.1 no such user", OutboxState.DEAD),
    ("DATA", "552 5.3.4 too big", OutboxState.DEAD),
    ("RCPT", "450 4.2.1 mailbox busy", OutboxState.FAILED),
    ("DATA", "451 4.3.0 try later", OutboxState.FAILED),
])
async def test_a_refusal_on_a_shared_connection_is_that_message_s_alone(
    orm: str, sink: SmtpSink, smtp: SmtpSender, at: str, reply_: str, state: str
) -> None:
    first, second, third = await queue(3)
    sink.answer("250 OK", reply_, at=at)  # the second message is refused
    assert await dispatch_once(smtp, now=NOW) == 2
    refused = await reload(second)
    assert refused.state == state and reply_ in refused.last_error
    assert [(await reload(row)).state for row in (first, third)] == [OutboxState.SENT] * 2
    assert [r.rcpt_tos for r in await sink.wait_for(2)] == [[first.recipient],
                                                             [third.recipient]]
    assert sink.connections == 1  # RSET after the refusal; the connection went on


async def test_a_relay_closing_the_connection_gets_a_new_one(
    orm: str, sink: SmtpSink, smtp: SmtpSender
) -> None:
    first, second = await queue(2)
    sink.answer("421 4.3.2 shutting down this connection", at="MAIL")
    assert await dispatch_once(smtp, now=NOW) == 1
    closed = await reload(first)
    assert closed.state == OutboxState.FAILED and "421" in closed.last_error
    assert (await reload(second)).state == OutboxState.SENT
    assert sink.connections == 2


async def test_a_send_longer_than_half_the_lease_is_given_up_for_a_retry(orm: str) -> None:
    async def never_greets(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(never_greets, "127.0.0.1", 0)
    slow = SmtpSender("127.0.0.1", server.sockets[0].getsockname()[1], timeout=30)
    (row,) = await queue(1)
    try:
        assert await dispatch_once(slow, now=NOW, lease=timedelta(seconds=0.4)) == 0
    finally:
        server.close()
        await server.wait_closed()
    failed = await reload(row)
    assert failed.state == OutboxState.FAILED and "timed out" in failed.last_error


class SlowRelay:
    """The real SmtpSender behind a relay that takes `delay` seconds per message; after
    each message, another worker tries to claim whatever this one has let lapse."""

    channel = "email"

    def __init__(self, smtp: SmtpSender, delay: float, lease: timedelta) -> None:
        self.smtp, self.delay, self.lease = smtp, delay, lease
        self.taken_by_another: list[int] = []

    async def send(self, recipient: str, payload: bytes) -> None:
        await asyncio.sleep(self.delay)  # the slow relay itself, not a wait for a race
        await self.smtp.send(recipient, payload)
        taken = await outbox.claim(10, self.lease, SYSTEM.now())
        self.taken_by_another += [row.id for row in taken]


async def test_a_long_round_renews_the_leases_of_the_rows_it_still_holds(
    orm: str, sink: SmtpSink, smtp: SmtpSender
) -> None:
    lease = timedelta(seconds=1)
    rows = [await enqueue(mail(f"k{n}", f"c{n}@example.com", kind="notice"), now=NOW)
            for n in range(4)]
    slow = SlowRelay(smtp, 0.3, lease)  # 4 x 0.3 s: longer than one lease
    assert await dispatch_once(slow, now=SYSTEM.now(), lease=lease, claim=4) == 4
    assert slow.taken_by_another == []  # renewed before they lapsed
    assert [(await reload(row)).attempts for row in rows] == [1] * 4
    assert len(await sink.wait_for(4)) == 4


# ---- connections kept across messages and rounds (notifier.smtp_pool) ----------------------

async def test_connections_are_kept_across_rounds(
    orm: str, sink: SmtpSink, smtp: SmtpSender
) -> None:
    for round_ in range(3):
        await enqueue(mail(f"r{round_}", f"c{round_}@example.com", kind="notice"), now=NOW)
        assert await dispatch_once(smtp, now=NOW) == 1
    assert len(await sink.wait_for(3)) == 3
    assert sink.connections == 1
    await smtp.close()  # QUIT: the next message opens a new one
    await enqueue(mail("after", "d@example.com", kind="notice"), now=NOW)
    assert await dispatch_once(smtp, now=NOW) == 1
    assert sink.connections == 2


async def test_dispatch_due_sends_the_whole_queue_in_rounds_and_stops_when_it_is_empty(
    orm: str, sink: SmtpSink, smtp: SmtpSender
) -> None:
    rows = await queue(7)
    assert await dispatch_due(smtp, now=NOW, batch=3) == 7  # rounds of 3, 3 and 1
    assert len(await sink.wait_for(7)) == 7
    assert {(await reload(row)).state for row in rows} == {OutboxState.SENT}
    assert await dispatch_due(smtp, now=NOW, batch=3) == 0


async def test_a_round_without_reclaim_leaves_a_dead_worker_s_row_to_the_next_that_has_it(
    orm: str, sink: SmtpSink, smtp: SmtpSender
) -> None:
    """The service's delivery worker skips the look for dead workers' rows when a reply
    of its own woke it, and looks once a tick: the row is sent then, not lost."""
    (left,) = await queue(1)
    assert len(await outbox.claim(1, LEASE, NOW)) == 1  # a worker takes it, then dies
    await enqueue(mail("fresh", "fresh@example.com", kind="notice"), now=NOW)
    later = NOW + LEASE + timedelta(seconds=1)  # its lease has run out
    assert await dispatch_due(smtp, now=later, reclaim=False) == 1  # the new row only
    assert (await reload(left)).state == OutboxState.SENDING
    assert await dispatch_due(smtp, now=later, reclaim=True) == 1
    assert (await reload(left)).state == OutboxState.SENT
    assert sorted(str(r.message["To"]) for r in await sink.wait_for(2)) == [
        "c0@example.com", "fresh@example.com"]


async def test_without_an_envelope_sender_set_the_from_address_is_the_envelope_sender(
    sink: SmtpSink,
) -> None:
    """email.envelope_from unset: MAIL FROM is the message's From address, for a message
    rendered now (with a display name) and for an RFC 822 payload queued as it is."""
    sender = SmtpSender("127.0.0.1", sink.port, timeout=5)
    outgoing = replace(mail("k"), mail=MailHeaders(sender="bills@seller.example",
                                                   display_name="Seller AR"))
    await sender.send("alice@example.com", dumps(outgoing.stamped("m1@seller.example", NOW)))
    await sender.send("bob@example.com", b"From: Old Queue <old@seller.example>\r\n"
                      b"To: bob@example.com\r\nSubject: queued before\r\n\r\nhello\r\n")
    await sender.close()
    (first, first_to, msg), (second, second_to, _) = await sink.wait_for(2)
    assert (first, first_to) == ("bills@seller.example", ["alice@example.com"])
    assert str(msg["From"]) == "Seller AR <bills@seller.example>"
    assert (second, second_to) == ("old@seller.example", ["bob@example.com"])


async def test_a_relay_dropping_kept_connections_loses_and_duplicates_nothing(
    orm: str, sink: SmtpSink, smtp: SmtpSender
) -> None:
    sink.hang_up_after = 3  # each connection is dropped at the MAIL after its third message
    rows = await queue(10)
    assert await dispatch_once(smtp, now=NOW) == 10
    received = await sink.wait_for(10)
    ids = Counter(str(r.message["Message-ID"]) for r in received)
    assert ids == Counter(f"<{row.message_id}>" for row in rows)  # each once
    assert {(await reload(row)).state for row in rows} == {OutboxState.SENT}
    assert [(await reload(row)).attempts for row in rows] == [1] * 10  # no retry needed
    assert sink.connections == 4  # 3 + 3 + 3 + 1


async def test_a_connection_dropped_during_data_is_retried_later_and_arrives_once(
    orm: str, sink: SmtpSink, smtp: SmtpSender
) -> None:
    first, second, third = await queue(3)
    sink.answer("250 OK", DROP)  # the relay vanishes while taking the second message
    assert await dispatch_once(smtp, now=NOW) == 2
    dropped = await reload(second)
    assert dropped.state == OutboxState.FAILED  # it may or may not have arrived: retried
    assert await dispatch_once(smtp, now=dropped.next_attempt_at) == 1
    received = await sink.wait_for(3)
    assert sorted(str(r.message["Message-ID"]) for r in received) == sorted(
        f"<{row.message_id}>" for row in (first, second, third))
    assert {(await reload(row)).state for row in (first, second, third)} == {OutboxState.SENT}


# ---- several connections at once ------------------------------------------------------------

async def test_a_busy_round_sends_on_several_connections_at_once_and_keeps_them(
    orm: str, sink: SmtpSink, parallel_smtp: SmtpSender
) -> None:
    rows = await queue(2 * KEEP + 3)  # as many recipients: three waves
    assert await dispatch_once(parallel_smtp, now=NOW) == len(rows)
    received = await sink.wait_for(len(rows))
    # The first wave opened one connection per message in flight; the rest reused them.
    assert sink.connections == parallel_smtp.parallel == KEEP
    assert Counter(str(r.message["Message-ID"]) for r in received) == Counter(
        f"<{row.message_id}>" for row in rows)
    assert {(await reload(row)).state for row in rows} == {OutboxState.SENT}
    for n in range(4):  # the next round's, to four more recipients
        await enqueue(mail(f"more{n}", f"more{n}@example.com"), now=NOW)
    assert await dispatch_once(parallel_smtp, now=NOW) == 4 and sink.connections == KEEP


class FirstMessageSlow(SmtpSink):
    """A relay that takes its time over the first message it is given."""

    slowed = ""  # the Message-ID it took its time over

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.slowed:
            self.slowed = str(BytesHeaderParser().parsebytes(envelope.original_content)
                              ["Message-ID"])
            await asyncio.sleep(0.3)  # the relay's delay: what the order must survive
        return await super().handle_DATA(server, session, envelope)


async def test_one_recipient_s_messages_arrive_in_the_order_they_were_queued(
    orm: str
) -> None:
    order = ["alice", "alice", "bob", "alice", "carol", "dave"]
    rows = [await enqueue(mail(f"k{n}", f"{who}@example.com", f"message {n}"), now=NOW)
            for n, who in enumerate(order)]
    async with FirstMessageSlow() as sink:
        sender = SmtpSender("127.0.0.1", sink.port, timeout=5,
                           envelope_from="invoices@localhost")
        assert await dispatch_once(sender, now=NOW) == len(rows)
        await sender.close()
        received = await sink.wait_for(len(rows))
        slow = sink.slowed
    to_alice = [re.findall(r"message \d", text_of(r.message)) for r in received
                if r.rcpt_tos == ["alice@example.com"]]
    assert to_alice == [["message 0"], ["message 1"], ["message 3"]]
    # The messages in flight beside the slow one were not held up behind it.
    assert str(received[0].message["Message-ID"]) != slow


def test_a_wave_takes_one_message_per_recipient_and_keeps_queue_order() -> None:
    rows = [OutboxMessage(id=n, channel="email", recipient=who)
            for n, who in enumerate(["a", "a", "b", "c", "b", "d", "e"])]
    wave, rest = next_wave(rows, 3)
    assert [r.id for r in wave] == [0, 2, 3]
    assert [r.id for r in rest] == [1, 4, 5, 6]
    wave, rest = next_wave(rest, 3)
    assert [r.id for r in wave] == [1, 4, 5] and [r.id for r in rest] == [6]
