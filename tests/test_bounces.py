"""Bounces: delivery status notifications about our own mail reach AR, and never get a reply.

parse_bounce is checked over the shapes real MTAs send (Postfix, Exchange Online, Gmail, a
bare MAILER-DAEMON return); end to end, a real alert or reply goes out through the running
service to the SMTP sink, and its DSN comes back over SMTP to the service's receiver.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
from collections.abc import AsyncIterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import make_msgid
from pathlib import Path

import pytest

from bot.bounces import Bounce, Recipient, parse_bounce
from notifier.email_send import wire
from tests.alerting import SELLER, Alerting, alert_config, at, running_alerts, text_of
from tests.fakes import SmtpSink
from tests.harness import request_mail, until
from vault.models import (
    AlertPreference,
    AuditEvent,
    Contact,
    Escalation,
    InboundMessage,
    OutboxMessage,
)
from vault.pdf import PdfRenderer

GLOBEX = "ap@globex.example"
UNKNOWN_USER = ("550 5.1.1 <ap@globex.example>: Recipient address\n"
                "    rejected: User unknown in virtual mailbox table")

# ---- real-world report shapes ---------------------------------------------------------------


def postfix_dsn(original: bytes, *, action: str = "failed", status: str = "5.1.1",
                diagnostic: str = UNKNOWN_USER, recipient: str = GLOBEX) -> bytes:
    """As Postfix's bounce(8) writes it: the returned headers only (text/rfc822-headers)."""
    headers = original.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode()
    subject = ("Undelivered Mail Returned to Sender" if action == "failed"
               else "Delayed Mail (still being retried)")
    diag = (f"Diagnostic-Code: smtp; {diagnostic}" if action == "failed" else
            f"Diagnostic-Code: X-Postfix; {diagnostic}\nWill-Retry-Until: Mon, 23 Nov 2026")
    boundary = "7B2A1C0F45.1763719200/mx.relay.example"
    return f"""\
Date: Sat, 21 Nov 2026 10:00:02 +0000 (UTC)
From: MAILER-DAEMON@mx.relay.example (Mail Delivery System)
Subject: {subject}
To: invoices@localhost
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
Content-Transfer-Encoding: 8bit
Message-Id: {make_msgid(domain="mx.relay.example")}

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.relay.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{recipient}>: host mail.globex.example[192.0.2.25] said: {diagnostic}

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.relay.example
X-Postfix-Queue-ID: 7B2A1C0F45
X-Postfix-Sender: rfc822; invoices@localhost
Arrival-Date: Sat, 21 Nov 2026 09:59:58 +0000 (UTC)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mail.globex.example
{diag}

--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

{headers}

--{boundary}--
""".encode()


def exchange_ndr(original: bytes, recipient: str = GLOBEX) -> bytes:
    """As Exchange Online writes it: HTML and text for people, the whole message back."""
    returned = original.replace(b"\r\n", b"\n").decode()
    return f"""\
From: Microsoft Outlook <postmaster@globex.onmicrosoft.com>
To: <invoices@localhost>
Date: Sat, 21 Nov 2026 10:00:05 +0000
Subject: Undeliverable: Your invoices
Message-ID: {make_msgid(domain="BN8PR12MB3345.namprd12.prod.outlook.com")}
Auto-Submitted: auto-replied
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="_000_ndr_"

--_000_ndr_
Content-Type: multipart/alternative; boundary="_001_ndr_"

--_001_ndr_
Content-Type: text/plain; charset="us-ascii"

Your message to {recipient} couldn't be delivered.
{recipient.partition("@")[0]} wasn't found at globex.example.

--_001_ndr_
Content-Type: text/html; charset="us-ascii"

<html><body><b>Your message to {recipient} couldn't be delivered.</b></body></html>

--_001_ndr_--

--_000_ndr_
Content-Type: message/delivery-status

Reporting-MTA: dns;BN8PR12MB3345.namprd12.prod.outlook.com
Received-From-MTA: dns;mx.relay.example
Arrival-Date: Sat, 21 Nov 2026 10:00:04 +0000

Final-Recipient: rfc822;{recipient}
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient
 {recipient} not found by SMTP address lookup

--_000_ndr_
Content-Type: message/rfc822

{returned}
--_000_ndr_--
""".encode()


def gmail_dsn(original: bytes) -> bytes:
    """As Gmail writes it: a multipart/related notice with an icon, X-Original-Message-ID."""
    returned = message_from_bytes(original, policy=default_policy)
    return f"""\
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: invoices@localhost
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
In-Reply-To: {returned["Message-ID"]}
X-Failed-Recipients: nobody.here@gmail.com
Message-ID: <6543a1b2.050a0220.1b2c.0001.GMR@mx.google.com>
Date: Sat, 21 Nov 2026 02:00:05 -0800 (PST)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000a1"; report-type=delivery-status

--000000000000a1
Content-Type: multipart/related; boundary="000000000000a2"

--000000000000a2
Content-Type: multipart/alternative; boundary="000000000000a3"

--000000000000a3
Content-Type: text/plain; charset="UTF-8"

** Address not found **

Your message wasn't delivered to nobody.here@gmail.com because the address couldn't be found.

--000000000000a3
Content-Type: text/html; charset="UTF-8"

<html><body>Address not found</body></html>

--000000000000a3--
--000000000000a2
Content-Type: image/png; name="icon.png"
Content-Disposition: attachment; filename="icon.png"
Content-Transfer-Encoding: base64
Content-ID: <icon.png>

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
--000000000000a2--
--000000000000a1
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; invoices@localhost
Arrival-Date: Sat, 21 Nov 2026 02:00:04 -0800 (PST)
X-Original-Message-ID: {returned["Message-ID"]}

Final-Recipient: rfc822; nobody.here@gmail.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; gmail-smtp-in.l.google.com. 2607:f8b0:4864:20::1b
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does
 not exist. 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser - gsmtp
Last-Attempt-Date: Sat, 21 Nov 2026 02:00:05 -0800 (PST)

--000000000000a1
Content-Type: text/rfc822-headers

Subject: headers lost in transit

--000000000000a1--
""".encode()


def original_mail(body: str = "Amount: $1,250.00\n") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Northwind Supply Co. <invoices@localhost>"
    msg["To"] = GLOBEX
    msg["Subject"] = "New invoice G-1001"
    msg["Message-ID"] = "<176.42.1@localhost>"
    msg.set_content(body)
    return msg.as_bytes()


def parsed(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    return msg


# ---- parse_bounce ---------------------------------------------------------------------------

def test_a_postfix_dsn_names_recipient_action_status_diagnostic_and_original() -> None:
    bounce = parse_bounce(parsed(postfix_dsn(original_mail())))
    assert bounce == Bounce("176.42.1@localhost", (Recipient(
        GLOBEX, "failed", "5.1.1", "550 5.1.1 <ap@globex.example>: Recipient address "
        "rejected: User unknown in virtual mailbox table"),), standard=True)


def test_a_postfix_delay_warning_is_a_delayed_4xx() -> None:
    raw = postfix_dsn(original_mail(), action="delayed", status="4.4.1",
                      diagnostic="connect to mail.globex.example[192.0.2.25]:25: timed out")
    bounce = parse_bounce(parsed(raw))
    assert bounce is not None and bounce.message_id == "176.42.1@localhost"
    (recipient,) = bounce.recipients
    assert (recipient.action, recipient.status) == ("delayed", "4.4.1")


def test_an_exchange_ndr_returns_the_whole_message() -> None:
    bounce = parse_bounce(parsed(exchange_ndr(original_mail())))
    assert bounce is not None and bounce.message_id == "176.42.1@localhost"
    assert bounce.recipients == (Recipient(
        GLOBEX, "failed", "5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient "
        "ap@globex.example not found by SMTP address lookup"),)


def test_a_gmail_dsn_falls_back_on_x_original_message_id() -> None:
    bounce = parse_bounce(parsed(gmail_dsn(original_mail())))
    assert bounce is not None and bounce.message_id == "176.42.1@localhost"
    (recipient,) = bounce.recipients
    assert (recipient.final_recipient, recipient.status) == ("nobody.here@gmail.com", "5.1.1")
    assert recipient.diagnostic.startswith("550-5.1.1 The email account that you tried")


def test_a_bare_mailer_daemon_return_is_a_failure_without_status() -> None:
    msg = EmailMessage()
    msg["From"] = "MAILER-DAEMON@mail.globex.example"
    msg["Subject"] = "failure notice"
    msg.set_content("Hi. This is the qmail-send program. Sorry, it didn't work out.")
    msg.add_attachment(parsed(original_mail()))  # message/rfc822
    bounce = parse_bounce(msg)
    assert bounce == Bounce("176.42.1@localhost", (Recipient("", "failed", "", ""),), False)


def test_no_guessing_a_contacts_forward_or_a_daemon_without_the_original_is_no_bounce() -> None:
    forward = request_mail(GLOBEX, "Fwd: New invoice G-1001")
    forward.add_attachment(parsed(original_mail()))
    assert parse_bounce(forward) is None
    daemon = EmailMessage()
    daemon["From"] = "postmaster@mail.globex.example"
    daemon.set_content("Delivery to ap@globex.example failed: 176.42.1@localhost")
    assert parse_bounce(daemon) is None
    assert parse_bounce(request_mail(GLOBEX, "unpaid")) is None


@pytest.mark.parametrize("raw", [
    b"From: x@y\nContent-Type: multipart/report; report-type=delivery-status\n\njunk\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--Z\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\n"
    b"Content-Type: message/delivery-status\n\n--B\nContent-Type: message/rfc822\n\n--B--\n",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\n"
    b"Content-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
    b"UmVwb3J0aW5nLU1UQTogZG5z\n--B\nContent-Type: text/rfc822-headers; charset=x-nope\n\n"
    b"Message-ID: <a@b>\n--B--\n",
])
def test_broken_reports_are_bounces_without_fields_and_never_raise(raw: bytes) -> None:
    bounce = parse_bounce(parsed(raw))
    assert bounce is not None and bounce.standard and bounce.recipients == ()


# ---- end to end ---------------------------------------------------------------------------


@pytest.fixture
async def bouncing(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str, tmp_path: Path
) -> AsyncIterator[Alerting]:
    """The running service (frozen clock, alerts on); our relay vouches for senders."""
    config = alert_config(make_config, sink, INVOICEBOT_EMAIL_TRUSTED_RELAYS="127.0.0.1/32")
    async with running_alerts(config, sink, renderer, tmp_path) as run:
        yield run


async def send(alerting: Alerting, raw: bytes, mail_from: str) -> None:
    wire = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # smtplib sends bytes as is

    def deliver() -> None:
        with smtplib.SMTP("127.0.0.1", alerting.service.smtp_port, timeout=10) as smtp:
            smtp.sendmail(mail_from, ["invoices@localhost"], wire)

    await asyncio.to_thread(deliver)


async def report(alerting: Alerting, raw: bytes) -> InboundMessage:
    """Hand a report to the service's receiver as a relay does (null sender); wait until
    it is processed and delivery has settled."""
    await send(alerting, raw, "")
    key = str(parsed(raw)["Message-ID"]).strip("<>")
    row = await until(lambda: InboundMessage.get_or_none(message_key=key, state="processed"))
    await alerting.settled()
    return row


async def alert_sent(alerting: Alerting, number: str = "G-1001") -> OutboxMessage:
    """A real instant alert to GLOBEX's contact, delivered to the sink."""
    await alerting.invoices(("GLOBEX", number, 0, 30, "1250.00"))
    await alerting.tick()
    row = await OutboxMessage.filter(kind="alert").order_by("-id").first()
    assert row is not None and row.state == "sent"
    assert number in alerting.mails_to(GLOBEX)[-1]["Subject"]
    return row


async def reply_sent(alerting: Alerting, text: str) -> OutboxMessage:
    """A real request from GLOBEX's contact, answered through the sink."""
    request = request_mail(GLOBEX, text)
    await send(alerting, request.as_bytes(), GLOBEX)
    await alerting.settled()
    reply = await until(lambda: OutboxMessage.get_or_none(kind="reply", state="sent"))
    assert alerting.mails_to(GLOBEX)[-1]["In-Reply-To"] == request["Message-ID"]
    return reply


async def test_a_511_bounce_of_an_alert_escalates_switches_email_off_and_is_not_answered(
    bouncing: Alerting,
) -> None:
    alert = await alert_sent(bouncing)
    row = await report(bouncing, postfix_dsn(wire(bytes(alert.payload))))

    assert row.outcome == "bounce"
    contact = await Contact.get(email=GLOBEX)
    (escalation,) = await Escalation.filter(kind="bounce")
    assert (escalation.address, escalation.contact_id, escalation.account_id) == (
        GLOBEX, contact.id, contact.account_id)
    assert escalation.source_key == f"bounce:{alert.id}:{GLOBEX}"
    assert escalation.summary.startswith("alert to ap@globex.example bounced: 5.1.1 (550 5.1.1")
    assert escalation.summary.endswith("; email alerts switched off for this contact")
    bounced = await AuditEvent.get(action="notifier.delivery.bounced")
    assert bounced.data["outbox_id"] == alert.id and bounced.data["status"] == "5.1.1"
    assert (bounced.data["kind"], bounced.data["channel"]) == ("alert", "email")
    assert "G-1001" not in json.dumps(bounced.data)  # nothing of the alert is copied
    assert (await AlertPreference.get(contact_id=contact.id)).disabled == ["email"]
    assert await AuditEvent.exists(action="notifier.route.disabled", contact_id=contact.id)
    # No reply to the report, and the next invoice alerts nobody by email.
    assert await OutboxMessage.all().count() == 1 and len(bouncing.sink.messages) == 1
    await bouncing.invoices(("GLOBEX", "G-1002", 0, 30, "10.00"))
    await bouncing.tick()
    assert len(bouncing.sink.messages) == 1
    # The relay reporting the same failure again (a new report) escalates nothing new.
    assert (await report(bouncing, postfix_dsn(wire(bytes(alert.payload))))).outcome == "bounce"
    assert await Escalation.all().count() == 1


async def test_a_delay_warning_is_audited_and_nothing_else(bouncing: Alerting) -> None:
    alert = await alert_sent(bouncing)
    raw = postfix_dsn(wire(bytes(alert.payload)), action="delayed", status="4.4.1",
                      diagnostic="connect to mail.globex.example[192.0.2.25]:25: timed out")
    row = await report(bouncing, raw)

    assert row.outcome == "bounce_delayed"
    assert not await Escalation.exists()
    delayed = await AuditEvent.get(action="notifier.delivery.bounce_delayed")
    assert delayed.data["outbox_id"] == alert.id
    assert delayed.data["recipients"] == [[GLOBEX, "delayed", "4.4.1"]]
    assert not await AlertPreference.exists()
    await alert_sent(bouncing, "G-1003")  # email alerts still go out
    assert len(bouncing.sink.messages) == 2


async def test_a_bounce_of_mail_we_never_sent_is_audited_only(bouncing: Alerting) -> None:
    await alert_sent(bouncing)
    forged = original_mail().replace(b"176.42.1@localhost", b"spam.1@localhost")
    row = await report(bouncing, postfix_dsn(forged))

    assert row.outcome == "bounce_unknown"
    assert not await Escalation.exists() and not await AlertPreference.exists()
    unknown = await AuditEvent.get(action="notifier.delivery.bounce_unknown")
    assert unknown.data["message_id"] == "spam.1@localhost"
    assert await OutboxMessage.all().count() == 1 and len(bouncing.sink.messages) == 1


async def test_a_report_about_another_address_changes_nothing(bouncing: Alerting) -> None:
    # A forged DSN quoting one of our Message-IDs but naming someone else must not switch
    # the contact's alerts off, nor put the forger's address in AR's digest.
    alert = await alert_sent(bouncing)
    row = await report(bouncing, postfix_dsn(wire(bytes(alert.payload)),
                                             recipient="victim@elsewhere.example"))

    assert row.outcome == "delivery_report"
    assert not await Escalation.exists() and not await AlertPreference.exists()


async def test_a_malformed_report_is_kept_processed_and_audited(bouncing: Alerting) -> None:
    raw = (b"From: MAILER-DAEMON@mx.relay.example\nTo: invoices@localhost\n"
           b"Message-ID: <broken.1@mx.relay.example>\nSubject: Undelivered Mail\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
           b"--Z\nthe boundary never comes\n")
    row = await report(bouncing, raw)

    assert (row.state, row.outcome) == ("processed", "bounce_unreadable")
    assert bytes(row.raw_message).replace(b"\r\n", b"\n") == raw  # kept as received
    unreadable = await AuditEvent.get(action="notifier.delivery.bounce_unreadable")
    assert unreadable.data["reference"] == "broken.1@mx.relay.example"
    assert not await Escalation.exists() and not await OutboxMessage.exists()
    assert bouncing.sink.messages == []


async def test_the_ar_digest_lists_bounces_by_address_without_the_bounced_message(
    bouncing: Alerting,
) -> None:
    alert = await alert_sent(bouncing)
    reply = await reply_sent(bouncing, "invoice G-1001")
    assert b"G-1001" in wire(bytes(reply.payload))
    assert (await report(bouncing, exchange_ndr(wire(bytes(reply.payload))))).outcome == "bounce"
    assert not await AlertPreference.exists()  # a reply's bounce leaves alerts alone
    assert (await report(bouncing, postfix_dsn(wire(bytes(alert.payload))))).outcome == "bounce"

    bouncing.clock.at = at(SELLER, 8, 1)
    await bouncing.service.ticks.digests()
    await bouncing.settled()
    (digest,) = bouncing.mails_to("ar@localhost")
    assert digest["Subject"].endswith(": 2 items")
    body = text_of(digest).replace("\r\n", "\n")
    blocks = [b for b in body.split("\n\n") if b.startswith("A message bounced")]
    assert len(blocks) == 2
    for block in blocks:
        assert block.startswith("A message bounced - Globex Corporation (GLOBEX)\n"
                                "  who: ap@globex.example\n")
        assert "  what you can do: Check the contact's address and correct it." in block
    assert ("  details: reply to ap@globex.example bounced: 5.1.10 (550 5.1.10 "
            "RESOLVER.ADR.RecipientNotFound; Recipient ap@globex.example not found by SMTP "
            "address lookup)") in blocks[0]
    assert "  details: alert to ap@globex.example bounced: 5.1.1 (550 5.1.1" in blocks[1]
    # Neither bounced message, nor the reports' own text, reaches AR.
    for content in ("G-1001", "1,250.00", "/d/", "Undeliverable", "couldn't be delivered",
                    "sorry to have to inform"):
        assert content not in body

