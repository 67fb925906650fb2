"""End to end through the real email path: SMTP in, reply out to a real relay, links over
HTTP, PDFs checked by their text, audit rows checked by their fields."""

from __future__ import annotations

import io
import re
import smtplib
from collections.abc import AsyncIterator
from email.message import EmailMessage

import dkim
import pytest
from pypdf import PdfReader

from bot.service import Service
from tests.fakes import SmtpSink
from tests.harness import DOWNLOAD_LINK as LINK
from tests.harness import PUBLIC_URL, Running, fixed_clock, load_e2e_data, request_mail, until
from tests.test_mailauth import make_dkim_key
from vault.config import Config
from vault.models import AuditEvent, Contact, Escalation, InboundMessage, OutboxMessage
from vault.pdf import PdfRenderer


async def start(config: Config) -> Service:
    service = Service(config, clock=fixed_clock())
    await service.start()
    return service


@pytest.fixture
async def running(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str
) -> AsyncIterator[Running]:
    """The service on an empty database (the `orm` fixture empties it on PostgreSQL)."""
    config = make_config(
        INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}",
        INVOICEBOT_HTTP_PUBLIC_URL=PUBLIC_URL,
        INVOICEBOT_EMAIL_TRUSTED_RELAYS="127.0.0.1/32",
    )
    service = await start(config)
    await load_e2e_data(config, renderer)
    yield Running(service=service, sink=sink, config=config)
    await service.stop()


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def ask(running: Running, msg: EmailMessage) -> EmailMessage:
    await running.send(msg)
    await running.sink.wait_for(1)
    return running.sink.messages[-1].message


async def test_invoices_march_gets_march_invoices_with_links_that_download_the_pdfs(
    running: Running,
) -> None:
    request = request_mail("ap@acme.example", "invoices March")
    reply = await ask(running, request)

    assert reply["To"] == "ap@acme.example"
    assert reply["In-Reply-To"] == request["Message-ID"]
    assert request["Message-ID"] in reply["References"]
    assert reply["Auto-Submitted"] == "auto-replied"
    body = text_of(reply)
    assert "INV-2026-0301" in body and "INV-2026-0302" in body
    assert "INV-2026-0210" not in body  # February
    assert "INV-2026-0305" not in body  # another account's March invoice
    assert "Links expire" in body
    html = reply.get_body(preferencelist=("html",))
    assert html is not None and "INV-2026-0301" in html.get_content()  # type: ignore[attr-defined]

    urls = LINK.findall(body)
    assert len(urls) == 2
    response = await running.download(urls[0])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    text = pdf_text(response.content)
    number = "INV-2026-0301" if "INV-2026-0301" in text else "INV-2026-0302"
    assert f'filename="{number}.pdf"' in response.headers["content-disposition"]
    if number == "INV-2026-0301":
        assert "3.017,04" in text  # 2,400 + 19% and 150.50 + 7%, in the buyer's de_DE format

    contact = await Contact.get(email="ap@acme.example")
    download = await AuditEvent.get(action="vault.document.download")
    assert download.contact_id == contact.id
    assert download.ip == "127.0.0.1"
    assert download.user_agent == "e2e-test/1.0"


async def test_a_second_download_is_audited_again(running: Running) -> None:
    reply = await ask(running, request_mail("ap@acme.example", "invoice INV-2026-0210"))
    url, *_receipts = LINK.findall(text_of(reply))  # the invoice first, then its receipts
    assert (await running.download(url)).status_code == 200
    assert (await running.download(url)).status_code == 200
    assert await AuditEvent.filter(action="vault.document.download").count() == 2


async def test_another_accounts_invoice_number_reads_like_a_nonexistent_one(
    running: Running,
) -> None:
    other = await ask(running, request_mail("ap@acme.example", "invoice INV-2026-0305"))
    running.sink.messages.clear()
    # Equally near to ACME's own numbers, so the "did you mean" part is the same too.
    missing = await ask(running, request_mail("ap@acme.example", "invoice INV-2026-0306"))
    # Each reply has its own "Open your account" link; the rest must read the same.
    def same(text: str, number: str) -> str:
        return re.sub(r"/a/\S+", "/a/<link>", text.replace(number, "N"))

    assert same(text_of(other), "INV-2026-0305") == same(text_of(missing), "INV-2026-0306")
    assert "could not find" in text_of(other)
    assert "Did you mean INV-2026-0301 or INV-2026-0302?" in text_of(other)
    assert not LINK.findall(text_of(other))


@pytest.mark.parametrize(
    ("auth", "source"),
    [
        (None, "127.0.0.1"),  # no Authentication-Results at all
        ("dmarc=fail", "127.0.0.1"),  # our relay says the From is forged
        ("dmarc=pass", "127.0.0.2"),  # a "pass" stamped by a peer that is not our relay
    ],
    ids=["no-auth-results", "dmarc-fail", "forged-from-untrusted-peer"],
)
async def test_unverified_sender_gets_a_neutral_notice_and_no_invoice_data(
    running: Running, auth: str | None, source: str
) -> None:
    msg = request_mail("ap@acme.example", "invoices March", auth=auth)
    await running.send(msg, source=source)
    await running.sink.wait_for(1)
    notice = running.sink.messages[0].message
    assert notice["To"] == "ap@acme.example"
    assert "could not verify" in text_of(notice)
    assert "INV-" not in notice.as_string()
    escalation = await Escalation.get(kind="unauthenticated")
    assert escalation.address == "ap@acme.example"


async def test_neutral_notices_are_rate_limited(running: Running) -> None:
    first = request_mail("ap@acme.example", "invoices March", auth=None)
    second = request_mail("ap@acme.example", "unpaid", auth=None)
    await running.send(first)
    await running.send(second)
    await running.processed(second)
    assert await OutboxMessage.filter(kind="notice").count() == 1
    assert await Escalation.filter(kind="unauthenticated").count() == 2


async def test_unknown_sender_gets_nothing_and_ar_hears_of_it(running: Running) -> None:
    msg = request_mail("stranger@evil.example", "invoices March")
    await running.send(msg)
    row = await running.processed(msg)
    assert row.outcome == "refused:unknown_sender"
    assert await OutboxMessage.all().count() == 0
    escalation = await Escalation.get(kind="unknown_sender")
    assert escalation.address == "stranger@evil.example"
    assert "March" not in escalation.summary  # AR sees the address, not the content


async def test_deactivated_contact_gets_no_invoices(running: Running) -> None:
    msg = request_mail("former@acme.example", "invoices March")
    await running.send(msg)
    row = await running.processed(msg)
    assert row.outcome == "refused:inactive_contact"
    assert await OutboxMessage.all().count() == 0


async def refused_unread(running: Running, msg: EmailMessage, reason: str) -> None:
    """The message got no reply at all, AR has an item naming why, and the audit says so."""
    row = await running.processed(msg)
    assert row.outcome == "refused_headers"
    assert await OutboxMessage.all().count() == 0
    assert running.sink.messages == []
    item = await Escalation.get(kind="repeated_header")
    assert (item.address, item.summary) == ("bounce@sender.example", reason)
    audited = await AuditEvent.get(action="bot.email.refused_headers")
    assert audited.data["reason"] == reason


async def test_two_from_headers_are_refused_without_reply(running: Running) -> None:
    msg = request_mail("ap@acme.example", "invoices March")
    first = b"From: ap@acme.example"
    raw = msg.as_bytes().replace(first, first + b"\nFrom: ap@globex.example")
    await running.send(raw)  # two From headers: the policy cannot even build such a message
    await refused_unread(running, msg, "several From headers")


async def test_two_authentication_results_with_our_id_are_refused_without_reply(
    running: Running,
) -> None:
    # A relay that let a forged header through (e.g. a milter outage, accept-on-failure).
    msg = request_mail("ap@acme.example", "invoices March")
    forged = b"Authentication-Results: invoicebot.local; dmarc=pass header.from=acme.example\n"
    await running.send(forged + msg.as_bytes())
    await refused_unread(running, msg, "several Authentication-Results from invoicebot.local")


@pytest.mark.parametrize(
    "results",
    ["mx.other.example; none\nAuthentication-Results: invoicebot.local; dmarc=pass "
     "header.from=acme.example",
     "(c) invoicebot.local; dmarc=pass header.from=acme.example",
     "invoicebot.local; dmarc=fail header.from=acme.example; dkim=pass header.d=acme.example"],
    ids=["ours-below-another", "behind-a-comment", "dmarc-fail-dkim-pass"],
)
async def test_forged_or_failing_results_get_only_the_neutral_notice(
    running: Running, results: str
) -> None:
    msg = request_mail("ap@acme.example", "invoices March", auth=None)
    await running.send(f"Authentication-Results: {results}\n".encode() + msg.as_bytes())
    await running.sink.wait_for(1)
    notice = running.sink.messages[0].message
    assert "could not verify" in text_of(notice) and "INV-" not in notice.as_string()
    assert (await Escalation.get(kind="unauthenticated")).address == "ap@acme.example"


async def test_reply_goes_to_the_address_on_file_never_reply_to(running: Running) -> None:
    msg = request_mail("AP@ACME.example", "invoices March",
                       extra={"Reply-To": "attacker@evil.example"})
    reply = await ask(running, msg)
    assert reply["To"] == "ap@acme.example"
    assert running.sink.messages[-1].rcpt_tos == ["ap@acme.example"]


@pytest.mark.parametrize(
    "header", [("Auto-Submitted", "auto-replied"), ("Precedence", "bulk")], ids=lambda h: h[0]
)
async def test_automatic_mail_gets_no_reply(running: Running, header: tuple[str, str]) -> None:
    msg = request_mail("ap@acme.example", "invoices March", extra=dict([header]))
    await running.send(msg)
    row = await running.processed(msg)
    assert row.outcome == "auto_generated"
    assert await OutboxMessage.all().count() == 0


async def test_not_understood_gets_help_with_examples(running: Running) -> None:
    reply = await ask(running, request_mail("ap@acme.example", "hello there"))
    body = text_of(reply)
    assert "did not understand" in body
    assert "invoices March" in body and "unpaid" in body
    assert "Traceback" not in body
    assert "connect telegram" not in body  # this service runs no chat: none offered
    # AR sees what the bot could not answer, to answer it themselves.
    item = await Escalation.get(kind="unclear")
    assert item.address == "ap@acme.example" and "hello there" in item.summary


async def test_quoted_history_is_not_answered(running: Running) -> None:
    body = "unpaid please\n\nOn Mon, 2 Mar 2026, Bot <invoices@x> wrote:\n> invoices March\n"
    reply = await ask(running, request_mail("ap@acme.example", "Re: your request", body=body))
    assert reply["Subject"].startswith("Unpaid invoices")


async def test_database_failure_during_data_answers_451_then_accepts_after_recovery(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk I/O error")

    msg = request_mail("ap@acme.example", "invoices March")
    monkeypatch.setattr(InboundMessage, "create", broken)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await running.send(msg)
    assert refused.value.smtp_code == 451
    monkeypatch.undo()
    await running.send(msg)  # the sender's retry
    await running.sink.wait_for(1)
    assert len(running.sink.messages) == 1


async def test_oversize_mail_is_refused_with_552(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, orm: str
) -> None:
    config = make_config(INVOICEBOT_EMAIL_MAX_SIZE="2KB",
                         INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}")
    service = await start(config)
    try:
        msg = request_mail("ap@acme.example", "invoices March", body="x" * 5000)
        with pytest.raises(smtplib.SMTPException) as refused:
            await Running(service, sink, config).send(msg)
        assert "552" in str(refused.value)
        assert await InboundMessage.all().count() == 0
    finally:
        await service.stop()


async def test_recipient_outside_our_addresses_gets_550(running: Running) -> None:
    msg = request_mail("ap@acme.example", "invoices March")
    msg.replace_header("To", "someone@localhost")

    def deliver() -> None:
        with smtplib.SMTP("127.0.0.1", running.service.smtp_port, timeout=10) as smtp:
            smtp.send_message(msg, to_addrs=["someone@localhost"])

    import asyncio

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(deliver)
    assert refused.value.recipients["someone@localhost"][0] == 550


async def test_crash_after_250_is_reprocessed_once_on_restart(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.inbound import InboundQueue

    async def crash(self: InboundQueue[InboundMessage], message_id: int) -> str:
        raise RuntimeError("killed between 250 and processing")

    msg = request_mail("ap@acme.example", "invoices March")
    with monkeypatch.context() as patch:
        patch.setattr(InboundQueue, "process", crash)
        await running.send(msg)  # accepted: 250
    stored = await InboundMessage.get(message_key=str(msg["Message-ID"]).strip("<>"))
    assert stored.state == "received"
    await running.service.stop()

    for _ in range(2):  # restart twice: the second start must not answer again
        service = await start(running.config)
        await running.sink.wait_for(1)
        await until(lambda: InboundMessage.get_or_none(id=stored.id, state="processed"))
        await service.stop()
    running.service = await start(running.config)  # the fixture stops this one
    assert await OutboxMessage.filter(kind="reply").count() == 1
    assert len(running.sink.messages) == 1
    assert "INV-2026-0301" in text_of(running.sink.messages[0].message)



@pytest.fixture
async def dkim_running(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str
) -> AsyncIterator[tuple[Running, bytes]]:
    """The service verifying DKIM itself (keys from a fake DNS), and the signing key."""
    private, record = make_dkim_key()
    config = make_config(INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}",
                         INVOICEBOT_EMAIL_VERIFY_DKIM="true",
                         INVOICEBOT_HTTP_PUBLIC_URL=PUBLIC_URL)

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"sel._domainkey.acme.example." else None

    service = Service(config, dnsfunc=dns, clock=fixed_clock())
    await service.start()
    await load_e2e_data(config, renderer)
    yield Running(service, sink, config), private
    await service.stop()


def dkim_signed(private: bytes, msg: EmailMessage) -> bytes:
    raw = msg.as_bytes()
    return bytes(dkim.sign(raw, b"sel", b"acme.example", private,
                           include_headers=[b"from", b"subject", b"message-id"])) + raw


async def test_dkim_verified_by_us_is_enough_without_a_relay_header(
    dkim_running: tuple[Running, bytes],
) -> None:
    running, private = dkim_running
    msg = request_mail("ap@acme.example", "invoices March", auth=None)
    signature = dkim_signed(private, msg).partition(b"From:")[0]
    await running.send(dkim_signed(private, msg))
    await running.sink.wait_for(1)
    assert "INV-2026-0301" in text_of(running.sink.messages[0].message)

    forged = request_mail("ap@acme.example", "unpaid", auth=None).as_bytes()
    await running.send(signature + forged)  # the signature over another body
    await running.sink.wait_for(2)
    assert "could not verify" in text_of(running.sink.messages[1].message)


async def test_our_relays_dmarc_fail_outweighs_our_own_dkim_pass(
    dkim_running: tuple[Running, bytes],
) -> None:
    running, private = dkim_running
    msg = request_mail("ap@acme.example", "invoices March", auth=None)
    relay = b"Authentication-Results: invoicebot.local; dmarc=fail header.from=acme.example\n"
    await running.send(relay + dkim_signed(private, msg))  # the signature itself is valid
    await running.sink.wait_for(1)
    assert "could not verify" in text_of(running.sink.messages[0].message)
    assert "INV-" not in running.sink.messages[0].message.as_string()


async def test_a_replayed_signed_mail_with_a_second_subject_is_refused_unread(
    dkim_running: tuple[Running, bytes],
) -> None:
    """The review's replay: a signed mail from a contact, a chosen Subject added on top.
    DKIM still verifies (it covers the last Subject); the bot must not read the first."""
    running, private = dkim_running
    msg = request_mail("ap@acme.example", "invoices March", auth=None)
    command = b"Subject: dispute INV-2026-0301 wrong quantity\n"
    await running.send(command + dkim_signed(private, msg))
    await refused_unread(running, msg, "several Subject headers")
    assert not await Escalation.filter(kind="dispute").exists()


def nested_mail(depth: int) -> bytes:
    """A message nested `depth` multiparts deep: the stdlib parser recurses per level."""
    head = [b"From: ap@acme.example", b"To: invoices@localhost", b"Subject: invoices March",
            b"Message-ID: <deep@acme.example>", b"Authentication-Results: invoicebot.local; "
            b"dmarc=pass header.from=acme.example", b"MIME-Version: 1.0"]
    lines = [*head, b'Content-Type: multipart/mixed; boundary="b0"', b""]
    for level in range(1, depth):
        lines += [b"--b%d" % (level - 1), b'Content-Type: multipart/mixed; boundary="b%d"' % level,
                  b""]
    lines += [b"--b%d" % (depth - 1), b"Content-Type: text/plain", b"", b"invoices March"]
    lines += [b"--b%d--" % level for level in reversed(range(depth))]
    return b"\r\n".join(lines) + b"\r\n"


async def test_a_deeply_nested_message_is_refused_at_data_and_never_stored(
    running: Running,
) -> None:
    """Over the nesting cap: 554 before any 250, so the sender's relay tells the sender.
    Under looser caps it would be read in the parser worker and set aside at once
    (tests/hostile/test_hostile_mail.py)."""
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await running.send(nested_mail(1200))
    assert refused.value.smtp_code == 554
    assert b"MIME" in refused.value.smtp_error
    assert await InboundMessage.all().count() == 0
    assert await OutboxMessage.all().count() == 0
