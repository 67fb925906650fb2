"""Disputes end to end, over real SMTP: the AP clerk disputes an invoice by email, gets one
acknowledgement and no alert of their own dispute; another contact of the account gets
the alert; every mail we sent carries the same From (the seller's name)."""

from __future__ import annotations

import asyncio
import re
import smtplib
from email.message import EmailMessage

from tests.alerting import Alerting, text_of
from tests.harness import request_mail, until
from vault.models import Account, Contact, Dispute, InboundMessage, Invoice
from vault.vocabulary import InvoiceStatus, Role

CLERK = "ap@globex.example"  # GLOBEX: alerted instantly by email
BOSS = "boss@globex.example"
SELLER_FROM = '"Northwind Supply Co." <invoices@localhost>'


async def send(alerting: Alerting, msg: EmailMessage) -> None:
    """Hand the message to the service's SMTP server and wait until it was answered."""
    raw = re.sub(rb"(?<!\r)\n", b"\r\n", msg.as_bytes())

    def deliver() -> None:
        with smtplib.SMTP("127.0.0.1", alerting.service.smtp_port, timeout=10) as smtp:
            smtp.sendmail(CLERK, ["invoices@localhost"], raw)

    await asyncio.to_thread(deliver)
    key = str(msg["Message-ID"]).strip("<>")
    await until(lambda: InboundMessage.get_or_none(message_key=key, state="processed"))


async def test_an_ap_clerk_disputes_and_only_the_others_are_alerted(alerting: Alerting) -> None:
    globex = await Account.get(account_id="GLOBEX")
    await Contact.create(account=globex, email=BOSS, name="Bo Boss", role=Role.MANAGER,
                         locale="en_US", timezone="America/New_York")
    await alerting.invoices(("GLOBEX", "INV-2026-3001", -5, -1, "500.00"))  # overdue already
    await alerting.tick()
    assert len(alerting.mails_to(CLERK)) == len(alerting.mails_to(BOSS)) == 1  # new invoice

    await send(alerting, request_mail(CLERK, "dispute INV-2026-3001 wrong quantity"))
    await alerting.tick()
    await alerting.tick()  # nothing more comes of a second tick either

    _new, ack = alerting.mails_to(CLERK)
    assert ack["Subject"] == "Dispute of invoice INV-2026-3001 received"
    assert "We have recorded your dispute of invoice INV-2026-3001." in text_of(ack)
    _new, alert = alerting.mails_to(BOSS)
    assert alert["Subject"] == "Invoice INV-2026-3001: overdue -> disputed"
    invoice = await Invoice.get(number="INV-2026-3001")
    assert invoice.status == InvoiceStatus.DISPUTED
    dispute = await Dispute.get(invoice_id=invoice.id)
    assert dispute.contact_id == (await Contact.get(email=CLERK)).id
    # Replies, alerts and AR's mail about the dispute: one sender name, the seller's.
    senders = {str(m.message["From"]) for m in alerting.sink.messages}
    assert senders == {SELLER_FROM}, senders
