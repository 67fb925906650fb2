"""The SMTP receiver, driven over loopback like a real relay would.

What a sender must be able to rely on: 550 for mailboxes we do not serve, 250 only once
the message is in the database, 451 (retry) when we fail, 552 when it is too big.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiosmtplib
import pytest
from prometheus_client import REGISTRY
from tortoise.exceptions import OperationalError

from bot.channels.email import (
    ACCEPTED,
    TEMPFAIL,
    InboundHandler,
    message_key,
    start_smtp_server,
)
from bot.inbound import InboundQueue
from tests.hostile.test_inbound_faults import write_lock_held
from vault.clock import SYSTEM
from vault.config import Config
from vault.models import InboundMessage
from vault.vocabulary import InboundState

MESSAGE = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: invoices@localhost\r\n"
    b"Subject: invoices\r\n"
    b"Message-ID: <abc.123@example.com>\r\n"
    b"\r\n"
    b"secret-body-marker: invoices March\r\n"
)


@dataclass
class Inbound:
    port: int
    handler: InboundHandler
    stored: list[int] = field(default_factory=list)


@pytest.fixture
async def inbound(orm: str, config: Config) -> AsyncIterator[Inbound]:
    stored: list[int] = []
    handler = InboundHandler(config.email, stored.append, SYSTEM)
    server = await start_smtp_server(config.email, handler)
    yield Inbound(server.sockets[0].getsockname()[1], handler, stored)
    server.close()
    await server.wait_closed()


def client(port: int) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="relay.test",
                           start_tls=False, timeout=5)


async def send(port: int, raw: bytes = MESSAGE, rcpt: str = "invoices@localhost",
               mail_from: str = "alice@example.com") -> aiosmtplib.SMTPResponse:
    async with client(port) as smtp:
        await smtp.mail(mail_from)
        await smtp.rcpt(rcpt)
        return await smtp.data(raw)


# ---- recipients -----------------------------------------------------------------------------

async def test_unknown_recipient_gets_550_and_nothing_is_stored(inbound: Inbound) -> None:
    async with client(inbound.port) as smtp:
        await smtp.mail("alice@example.com")
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await smtp.rcpt("sales@localhost")
    assert refused.value.code == 550
    assert "5.1.1 <sales@localhost>: no such mailbox here" in refused.value.message
    assert await InboundMessage.all().count() == 0


async def test_recipient_match_ignores_case(inbound: Inbound) -> None:
    response = await send(inbound.port, rcpt="Invoices@LOCALHOST")
    assert response.code == 250
    row = await InboundMessage.get()
    assert row.rcpt_tos == ["Invoices@LOCALHOST"]


# ---- storing before 250 ------------------------------------------------------------------------

async def test_message_is_stored_with_its_envelope_and_answered_250(inbound: Inbound) -> None:
    response = await send(inbound.port)
    assert f"{response.code} {response.message}" == ACCEPTED
    row = await InboundMessage.get()
    assert bytes(row.raw_message) == MESSAGE
    assert (row.message_key, row.peer, row.mail_from) == (
        "abc.123@example.com", "127.0.0.1", "alice@example.com")
    assert row.rcpt_tos == ["invoices@localhost"]
    assert row.state == "received" and row.received_at.tzinfo is not None
    assert inbound.stored == [row.id]


async def test_250_waits_for_the_commit(
    inbound: Inbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    real_create = InboundMessage.create

    async def slow_create(**kwargs: Any) -> InboundMessage:
        entered.set()
        await release.wait()
        return await real_create(**kwargs)

    monkeypatch.setattr(InboundMessage, "create", slow_create)
    sending = asyncio.create_task(send(inbound.port))
    await entered.wait()
    # The sender has no answer while the row is uncommitted. (No count here: on SQLite a
    # reader on the service's one connection waits for the open shared commit.)
    assert not sending.done()
    release.set()
    response = await sending
    assert response.code == 250
    assert await InboundMessage.all().count() == 1


async def test_plain_smtplib_client_in_a_thread_is_accepted(inbound: Inbound) -> None:
    def deliver() -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", inbound.port, local_hostname="relay.test",
                          timeout=5) as smtp:
            return smtp.sendmail("alice@example.com", ["invoices@localhost"], MESSAGE)

    assert await asyncio.to_thread(deliver) == {}
    assert await InboundMessage.filter(message_key="abc.123@example.com").count() == 1


async def test_resent_message_is_stored_once_and_still_accepted(inbound: Inbound) -> None:
    first = await send(inbound.port)
    again = await send(inbound.port)  # e.g. the relay never saw our first 250
    assert first.code == again.code == 250
    assert await InboundMessage.all().count() == 1
    assert len(inbound.stored) == 1  # the pipeline is told once


async def test_message_without_message_id_is_keyed_by_its_content(inbound: Inbound) -> None:
    raw = MESSAGE.replace(b"Message-ID: <abc.123@example.com>\r\n", b"")
    await send(inbound.port, raw)
    await send(inbound.port, raw)
    await send(inbound.port, raw + b"P.S. and April\r\n")
    rows = await InboundMessage.all().order_by("id")
    assert len(rows) == 2
    assert rows[0].message_key == message_key(raw) and rows[0].message_key.startswith("sha256:")


@pytest.mark.parametrize(
    "header",
    [b"Message-ID: not-in-brackets\r\n", b"Message-ID: <a b@x>\r\n",
     b"Message-ID: <" + b"x" * 300 + b">\r\n",
     b"Message-ID: <a@x>\r\nMessage-ID: <b@x>\r\n"],
)
def test_unusable_message_id_falls_back_to_content_hash(header: bytes) -> None:
    assert message_key(header + b"\r\nbody\r\n").startswith("sha256:")


# ---- failures ---------------------------------------------------------------------------------

async def test_database_failure_answers_451_and_the_retry_is_accepted(
    inbound: Inbound, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(**kwargs: Any) -> InboundMessage:
        raise OperationalError("database is locked")

    monkeypatch.setattr(InboundMessage, "create", broken)
    async with client(inbound.port) as smtp:
        await smtp.mail("alice@example.com")
        await smtp.rcpt("invoices@localhost")
        with pytest.raises(aiosmtplib.SMTPDataError) as failed:
            await smtp.data(MESSAGE)
        assert f"{failed.value.code} {failed.value.message}" == TEMPFAIL
        assert await InboundMessage.all().count() == 0
        monkeypatch.undo()  # the database is back; the sender retries in the same session
        await smtp.mail("alice@example.com")
        await smtp.rcpt("invoices@localhost")
        assert (await smtp.data(MESSAGE)).code == 250
    assert await InboundMessage.all().count() == 1
    assert "OperationalError" in caplog.text
    assert b"secret-body-marker".decode() not in caplog.text


async def test_any_other_internal_error_is_451_not_500(inbound: Inbound) -> None:
    assert await inbound.handler.handle_exception(RuntimeError("boom")) == TEMPFAIL


async def test_failing_pipeline_callback_does_not_undo_the_250(orm: str, config: Config) -> None:
    def explode(message_id: int) -> None:
        raise RuntimeError("pipeline not ready")

    server = await start_smtp_server(config.email, InboundHandler(config.email, explode, SYSTEM))
    try:
        assert (await send(server.sockets[0].getsockname()[1])).code == 250
    finally:
        server.close()
        await server.wait_closed()
    assert (await InboundMessage.get()).state == InboundState.RECEIVED  # the next requeue's


async def test_oversize_message_gets_552_and_is_not_stored(orm: str, make_config: Any) -> None:
    config = make_config(INVOICEBOT_EMAIL_MAX_SIZE="1KB")
    server = await start_smtp_server(config.email, InboundHandler(config.email, print, SYSTEM))
    port = server.sockets[0].getsockname()[1]
    big = MESSAGE + (b"x" * 70 + b"\r\n") * 40  # about 3 KB in short lines
    try:
        async with client(port) as smtp:  # a sender that does not announce SIZE
            await smtp.mail("alice@example.com")
            await smtp.rcpt("invoices@localhost")
            with pytest.raises(aiosmtplib.SMTPDataError) as too_big:
                await smtp.data(big)
        assert too_big.value.code == 552
        async with client(port) as smtp:  # one that does: refused at MAIL already
            with pytest.raises(aiosmtplib.SMTPSenderRefused) as announced:
                await smtp.sendmail("alice@example.com", ["invoices@localhost"], big)
        assert announced.value.code == 552
    finally:
        server.close()
        await server.wait_closed()
    assert await InboundMessage.all().count() == 0


async def test_message_content_is_never_logged(
    inbound: Inbound, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await send(inbound.port)
    # The ORM's own DEBUG loggers print SQL parameters; keeping them quiet is the
    # service's logging configuration, not the receiver's.
    ours = [r for r in caplog.records if not r.name.startswith(("tortoise", "aiosqlite"))]
    assert any(r.name == "bot.channels.email" for r in ours)
    assert not any("secret-body-marker" in r.getMessage() for r in ours)


async def test_envelope_addresses_are_not_logged_at_info(
    inbound: Inbound, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await send(inbound.port, mail_from="envelope-sender@example.com")
    assert any(r.name == "bot.channels.email" for r in caplog.records)
    shown = [r.getMessage() for r in caplog.records]
    assert not [m for m in shown if "envelope-sender@example.com" in m or "invoices@localhost" in m]


# ---- after a restart ----------------------------------------------------------------------------

def inbound_queue() -> InboundQueue[InboundMessage]:
    """The state machine over stored mail, without a worker: only its bookkeeping here."""
    async def unused(row: InboundMessage) -> Any:
        raise AssertionError("not processed in these tests")

    return InboundQueue(InboundMessage, unused, unused, SYSTEM)


async def test_stored_messages_are_requeued_until_they_are_marked_once(inbound: Inbound) -> None:
    for n in range(3):
        await send(inbound.port, MESSAGE.replace(b"abc.123", f"m{n}".encode()))
    first, second, third = inbound.stored
    assert first < second < third
    stored = inbound_queue()
    assert await stored.mark_processed(second, "answered")
    assert not await stored.mark_processed(second, "answered")  # done: no second transition
    assert await stored.mark_processed(third, "unknown_sender", state=InboundState.FAILED)
    assert await stored.requeue() == 1  # the first, still received
    assert await stored.requeue() == 0  # already queued: not twice
    row = await InboundMessage.get(id=second)
    assert (row.state, row.outcome) == ("processed", "answered")
    assert row.processed_at is not None
    with pytest.raises(ValueError):
        await stored.mark_processed(first, "x", state=InboundState.RECEIVED)


async def test_twenty_connections_at_once_share_commits_each_250_after_its_row(
    inbound: Inbound, orm: str
) -> None:
    """While another connection holds the write lock nobody is answered; once it is
    released every sender gets its 250, and the rows were committed in fewer commits than
    messages (vault.group_commit)."""
    before = REGISTRY.get_sample_value("invoicebot_group_commit_rows_count",
                                       {"table": "inbound_message"}) or 0.0
    raws = [MESSAGE.replace(b"abc.123", f"m{n}".encode()) for n in range(20)]
    async with write_lock_held(orm):
        sending = [asyncio.create_task(send(inbound.port, raw)) for raw in raws]
        await asyncio.sleep(1.0)  # the fault's length, not a wait for a result
        assert not any(task.done() for task in sending)  # no 250 before the commit
    assert [(await task).code for task in sending] == [250] * 20
    assert await InboundMessage.all().count() == 20
    assert sorted(inbound.stored) == sorted(await InboundMessage.all().values_list("id", flat=True))
    after = REGISTRY.get_sample_value("invoicebot_group_commit_rows_count",
                                      {"table": "inbound_message"}) or 0.0
    assert 1 <= after - before < 20
