"""Alerts end to end with time frozen: CSV import -> events -> the alerts tick -> the outbox
-> the service's delivery worker -> a real SMTP sink (or a recording chat sender); links
fetched over HTTP from the running service.

GLOBEX (tier standard) is alerted instantly by email by default; ACME (tier gold) gets a
daily digest unless it asks otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import time, timedelta

import pytest

from bot.answers.preferences import settings_reply
from bot.intents import PreferenceChange, Preferences
from bot.replies import Formats
from notifier import preferences
from notifier.delivery import dispatch_once
from notifier.email_send import wire
from tests.alerting import (
    NEW_YORK,
    SELLER,
    Alerting,
    at,
    pdf_text,
    text_of,
)
from tests.harness import DOWNLOAD_LINK as LINK
from tests.harness import PUBLIC_URL
from tests.recording_sender import RecordingChatSender
from vault.clock import SYSTEM
from vault.config_alerts import AlertsConfig
from vault.models import (
    AlertPreference,
    AuditEvent,
    ChatLink,
    Contact,
    Invoice,
    InvoiceEvent,
    Notification,
    OutboxMessage,
)
from vault.vocabulary import Cadence

GLOBEX = "ap@globex.example"
ACME = "ap@acme.example"


async def say(email: str, change: PreferenceChange | None, zone: str = "UTC") -> str:
    """What the bot answers a contact's preferences command (as the pipeline will call it)."""
    contact = await Contact.get(email=email)
    reply = await settings_reply(contact, Preferences(change), Formats.of("en", zone),
                                     alerts=AlertsConfig(), now=SYSTEM.now())
    return reply.as_text()


async def test_a_new_invoice_alerts_instantly_by_email_with_a_link_to_its_pdf(
    alerting: Alerting,
) -> None:
    await alerting.invoices(("GLOBEX", "G-1001", 0, 30, "1250.00"))
    await alerting.tick()

    (mail,) = alerting.mails_to(GLOBEX)
    assert mail["Subject"].startswith("New invoice G-1001: $1,250.00, due ")
    assert mail["From"] == '"Northwind Supply Co." <invoices@localhost>'
    assert mail["Auto-Submitted"] == "auto-generated"
    body = text_of(mail)
    assert "Amount: $1,250.00" in body and "Status: open" in body
    (url,) = LINK.findall(body)
    response = await alerting.download(url)
    assert response.status_code == 200
    assert "G-1001" in pdf_text(response.content)
    # ACME's contact (daily digest by default) is not alerted at once about its own
    # invoices, and never about another account's.
    assert alerting.mails_to(ACME) == []


async def test_a_tick_run_twice_or_concurrently_sends_once(alerting: Alerting) -> None:
    await alerting.invoices(("GLOBEX", "G-1002", 0, 30, "99.00"))
    await asyncio.gather(alerting.service.ticks.alerts(), alerting.service.ticks.alerts())
    await alerting.tick()
    await alerting.settled()
    assert len(alerting.mails_to(GLOBEX)) == 1
    assert await OutboxMessage.filter(kind="alert").count() == 1
    contact = await Contact.get(email=GLOBEX)
    event = await InvoiceEvent.get(kind="invoice.issued")
    notification = await Notification.get()
    assert notification.key == f"alert:{event.id}:{contact.id}:email"


async def test_a_contact_who_chose_telegram_gets_the_alert_there_and_not_by_email(
    alerting: Alerting,
) -> None:
    contact = await Contact.get(email=ACME)
    await ChatLink.create(contact=contact, platform="telegram", user_id="42", chat_id="4242",
                          linked_at=alerting.clock.now())
    answer = await say(ACME, PreferenceChange(channels=("telegram",), cadence=Cadence.INSTANT))
    assert "Channels: Telegram" in answer and "each alert at once" in answer

    await alerting.invoices(("ACME", "A-2001", 0, 30, "500.00"))
    await alerting.tick()
    telegram = RecordingChatSender()
    assert await dispatch_once(telegram, now=alerting.clock.now(),
                               signer=alerting.service.signer) == 1

    (delivery,) = telegram.delivered
    assert delivery.recipient == "4242"
    assert delivery.text.startswith("Neue Rechnung A-2001: 500,00\xa0€")  # de_DE, no choice
    (button,) = delivery.buttons
    assert (await alerting.download(button["url"])).status_code == 200
    assert alerting.mails_to(ACME) == []


async def test_quiet_hours_hold_an_instant_alert_until_they_end(alerting: Alerting) -> None:
    answer = await say(GLOBEX, PreferenceChange(quiet_hours=(time(20), time(7))), NEW_YORK.key)
    assert "Quiet hours: 20:00-07:00 (Eastern Time)" in answer
    alerting.clock.at = at(NEW_YORK, 22)
    await alerting.invoices(("GLOBEX", "G-1003", 0, 30, "10.00"))
    await alerting.tick()
    alerting.clock.at = at(NEW_YORK, 6, 59, days=1)
    await alerting.tick()
    assert alerting.mails_to(GLOBEX) == []

    alerting.clock.at = at(NEW_YORK, 7, 0, days=1)
    await alerting.tick()
    (mail,) = alerting.mails_to(GLOBEX)
    assert "G-1003" in mail["Subject"]


async def test_stop_alerts_stops_what_waits_and_what_comes_and_resume_restarts(
    alerting: Alerting,
) -> None:
    await say(GLOBEX, PreferenceChange(quiet_hours=(time(0), time(23, 59))))
    await alerting.invoices(("GLOBEX", "G-1004", 0, 30, "10.00"))
    await alerting.tick()  # held by the quiet hours
    answer = await say(GLOBEX, PreferenceChange(stop=True))
    assert "no more invoice alerts" in answer

    await alerting.invoices(("GLOBEX", "G-1005", 0, 30, "20.00"))
    alerting.clock.at += timedelta(days=1)
    await alerting.tick()
    assert alerting.mails_to(GLOBEX) == []
    assert {n.state for n in await Notification.all()} == {"cancelled"}

    await say(GLOBEX, PreferenceChange(resume=True, quiet_hours=None))
    await say(GLOBEX, PreferenceChange(channels=("email",)))
    contact = await Contact.get(email=GLOBEX)
    await preferences.apply(contact, preferences.Change(no_quiet_hours=True), None, via="test",
                            now=alerting.clock.now())
    await alerting.invoices(("GLOBEX", "G-1006", 0, 30, "30.00"))
    await alerting.tick()
    (mail,) = alerting.mails_to(GLOBEX)
    assert "G-1006" in mail["Subject"]


async def test_the_one_click_unsubscribe_link_in_an_alert_stops_alerts(
    alerting: Alerting, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="invoicebot.access")
    await alerting.invoices(("GLOBEX", "G-1007", 0, 30, "10.00"))
    await alerting.tick()
    (mail,) = alerting.mails_to(GLOBEX)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (part.strip(" <>") for part in mail["List-Unsubscribe"].split(","))
    assert https.startswith(f"{PUBLIC_URL}/u/")
    assert mailto == "mailto:invoices@localhost?subject=stop%20alerts"
    raw = wire(bytes((await OutboxMessage.get(kind="alert")).payload))
    assert f"List-Unsubscribe: <{https}>, <{mailto}>".encode() in raw  # not RFC 2047-encoded

    page = await alerting.http("GET", https)  # a mail scanner's GET changes nothing
    assert page.status_code == 200 and 'method="post"' in page.text
    assert not await AlertPreference.exists()
    # What a mail client sends for one-click (RFC 8058).
    done = await alerting.http("POST", https, content=b"List-Unsubscribe=One-Click",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "no more invoice alerts" in done.text
    changed = await AuditEvent.get(action="notifier.preferences.changed")
    assert changed.data["via"] == "unsubscribe_link" and changed.data["stopped"] is True

    await alerting.invoices(("GLOBEX", "G-1008", 0, 30, "10.00"))
    await alerting.tick()
    assert len(alerting.mails_to(GLOBEX)) == 1
    tampered = await alerting.http("POST", https[:-3] + "xyz")
    assert tampered.status_code == 410
    # The token only unsubscribes: as a download link it is refused (its own salt).
    download = await alerting.download(https.replace("/u/", "/d/"))
    assert download.status_code == 410
    token = https.rpartition("/u/")[2]
    assert '"POST /u/<redacted>" 200' in caplog.text and token not in caplog.text


async def test_a_payments_import_that_settles_an_invoice_alerts_open_to_paid(
    alerting: Alerting,
) -> None:
    await alerting.invoices(("GLOBEX", "G-1009", 0, 30, "400.00"))
    await alerting.tick()
    await alerting.payment("GLOBEX", "G-1009", "400.00", "WIRE-1")
    await alerting.tick()

    _issued, second = alerting.mails_to(GLOBEX)
    assert second["Subject"] == "Invoice G-1009: open -> paid"
    assert "Status: paid" in text_of(second) and "(open: $0.00)" in text_of(second)
    assert (await Invoice.get(number="G-1009")).status == "paid"
    assert await InvoiceEvent.filter(kind="payment.received", amount=400).count() == 1


async def test_the_overdue_sweep_flips_status_once_and_alerts_once(alerting: Alerting) -> None:
    await alerting.invoices(("GLOBEX", "G-1010", -20, 1, "75.00"))
    await alerting.tick()
    alerting.clock.at += timedelta(days=2)
    await asyncio.gather(alerting.service.ticks.sweep(), alerting.service.ticks.sweep())
    await alerting.service.ticks.sweep()
    await alerting.tick()
    await alerting.tick()

    # Issued 20 days ago: history, outside the alert window; going overdue today is news.
    (overdue,) = alerting.mails_to(GLOBEX)
    assert overdue["Subject"] == "Invoice G-1010: open -> overdue"
    assert (await Invoice.get(number="G-1010")).status == "overdue"
    assert await InvoiceEvent.filter(new_status="overdue").count() == 1


async def test_due_soon_reminds_once_per_due_date(alerting: Alerting) -> None:
    await alerting.invoices(("GLOBEX", "G-1011", 0, 3, "60.00"), ("GLOBEX", "G-1012", 0, 9, "1"))
    await alerting.tick()
    await alerting.service.ticks.due_soon()
    await alerting.service.ticks.due_soon()
    await alerting.tick()
    alerting.clock.at += timedelta(hours=1)
    await alerting.service.ticks.due_soon()
    await alerting.tick()

    subjects = [m["Subject"] for m in alerting.mails_to(GLOBEX)]
    reminders = [s for s in subjects if "is due on" in s]
    assert len(reminders) == 1 and reminders[0].startswith("Invoice G-1011 is due on ")


async def test_a_relay_answering_4xx_then_250_delivers_the_alert_once(
    alerting: Alerting,
) -> None:
    alerting.sink.answer("451 4.3.0 try again later")
    await alerting.invoices(("GLOBEX", "G-1013", 0, 30, "10.00"))
    await alerting.tick()
    row = await OutboxMessage.get(kind="alert")
    assert row.state == "failed" and row.last_error.startswith("451")
    assert alerting.mails_to(GLOBEX) == []

    alerting.clock.at = row.next_attempt_at + timedelta(seconds=1)
    await alerting.tick()
    (mail,) = alerting.mails_to(GLOBEX)
    first_try, second_try = alerting.sink.attempts
    assert first_try["Message-ID"] == second_try["Message-ID"] == mail["Message-ID"]
    row = await OutboxMessage.get(kind="alert")
    assert (row.state, row.attempts) == ("sent", 2)


async def test_a_relay_answering_5xx_kills_the_alert_switches_the_route_off_and_tells_ar(
    alerting: Alerting,
) -> None:
    alerting.sink.answer("550 5.1.1 mailbox unavailable")
    await alerting.invoices(("GLOBEX", "G-1014", 0, 30, "10.00"))
    await alerting.tick()
    await alerting.tick()  # reconciles the dead row
    row = await OutboxMessage.get(kind="alert")
    assert (row.state, row.attempts) == ("dead", 1)
    contact = await Contact.get(email=GLOBEX)
    pref = await AlertPreference.get(contact=contact)
    assert pref.disabled == ["email"]
    off = await AuditEvent.get(action="notifier.route.disabled")
    assert off.contact_id == contact.id and off.data["channel"] == "email"

    await alerting.invoices(("GLOBEX", "G-1015", 0, 30, "10.00"))
    await alerting.tick()
    assert await OutboxMessage.filter(kind="alert").count() == 1  # the route stays off

    alerting.clock.at = at(SELLER, 8, 0, days=1)
    await alerting.service.ticks.digests()
    await alerting.settled()
    (digest,) = alerting.mails_to("ar@localhost")
    body = text_of(digest)
    assert "A message could not be delivered - Globex Corporation (GLOBEX)" in body
    assert f"who: {GLOBEX}" in body and "550 5.1.1 mailbox unavailable" in body

    answer = await say(GLOBEX, PreferenceChange(channels=("email",)))
    assert "Channels: email" in answer
    assert (await AlertPreference.get(contact=contact)).disabled == []


async def test_a_blocked_telegram_bot_switches_telegram_off_for_that_contact_only(
    alerting: Alerting,
) -> None:
    contact = await Contact.get(email=GLOBEX)
    await ChatLink.create(contact=contact, platform="telegram", user_id="7", chat_id="77",
                          linked_at=alerting.clock.now())
    await say(GLOBEX, PreferenceChange(channels=("email", "telegram")))
    await alerting.invoices(("GLOBEX", "G-1016", 0, 30, "10.00"))
    await alerting.tick()
    blocked = RecordingChatSender(refuse_with="403 Forbidden: bot was blocked by the user")
    await dispatch_once(blocked, now=alerting.clock.now(), signer=alerting.service.signer)
    await alerting.tick()

    settings = await preferences.settings_for(contact, None)
    assert settings.disabled == ("telegram",)
    assert settings.routes({"email", "telegram"}) == ("email",)
    assert len(alerting.mails_to(GLOBEX)) == 1  # email still works
