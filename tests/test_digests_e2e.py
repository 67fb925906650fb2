"""Contacts' digests end to end with time frozen: ACME's contact (tier gold) gets a daily
digest at 08:00 Berlin time by default; one digest per period, whatever the ticks do."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.answers.preferences import settings_reply
from bot.intents import PreferenceChange, Preferences
from bot.replies import Formats
from notifier.delivery import dispatch_once
from tests.alerting import BASE_DAY, BERLIN, Alerting, at, text_of
from tests.harness import DOWNLOAD_LINK as LINK
from tests.recording_sender import RecordingChatSender
from vault.clock import SYSTEM
from vault.config_alerts import AlertsConfig
from vault.models import ChatLink, Contact, Digest, Notification, OutboxMessage
from vault.vocabulary import Cadence

ACME = "ap@acme.example"


async def say(change: PreferenceChange) -> str:
    contact = await Contact.get(email=ACME)
    reply = await settings_reply(contact, Preferences(change), Formats.of("en", BERLIN.key),
                                     alerts=AlertsConfig(), now=SYSTEM.now())
    return reply.as_text()


async def digest_tick(alerting: Alerting) -> None:
    await alerting.service.ticks.digests()
    await alerting.settled()


async def test_a_daily_digest_holds_all_of_the_periods_items_and_goes_out_once(
    alerting: Alerting,
) -> None:
    alerting.clock.at = at(BERLIN, 6)
    await alerting.invoices(("ACME", "A-3001", 0, 30, "100.00"), ("ACME", "A-3002", 0, 30, "50"))
    await alerting.tick()
    await alerting.payment("ACME", "A-3002", "50.00", "SEPA-1")
    await alerting.tick()
    alerting.clock.at = at(BERLIN, 7, 59)
    await digest_tick(alerting)
    assert alerting.mails_to(ACME) == []  # nothing instant, nothing before 08:00

    alerting.clock.at = at(BERLIN, 8, 0)
    await asyncio.gather(alerting.service.ticks.digests(), alerting.service.ticks.digests())
    await digest_tick(alerting)
    (digest,) = alerting.mails_to(ACME)
    # ACME's contact has no locale of her own: the account's de_DE speaks (README Languages).
    assert digest["Subject"] == (f"Ihre tägliche Rechnungsübersicht vom {BASE_DAY:%d.%m.%Y}: "
                                 "3 Neuigkeiten")
    body = text_of(digest)
    assert "Neue Rechnung A-3001: 100,00\xa0€" in body
    assert "Neue Rechnung A-3002: 50,00\xa0€" in body
    assert "Rechnung A-3002: offen -> bezahlt" in body
    assert len(set(LINK.findall(body))) == 2  # one link per invoice
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert await Digest.filter(recipient__startswith="contact:").count() == 1
    assert {n.state for n in await Notification.all()} == {"digested"}

    # After 08:00: the next day's digest, with only what came since.
    alerting.clock.at = at(BERLIN, 9)
    await alerting.invoices(("ACME", "A-3003", 1, 30, "10.00"))
    await alerting.tick()
    await digest_tick(alerting)
    assert len(alerting.mails_to(ACME)) == 1
    alerting.clock.at = at(BERLIN, 8, 0, days=1)
    await digest_tick(alerting)
    _first, second = alerting.mails_to(ACME)
    assert "1 Neuigkeit" in second["Subject"]
    assert "A-3003" in text_of(second) and "A-3001" not in text_of(second)


async def test_a_late_tick_still_sends_the_periods_digest(alerting: Alerting) -> None:
    alerting.clock.at = at(BERLIN, 6)
    await alerting.invoices(("ACME", "A-3101", 0, 30, "100.00"))
    await alerting.tick()
    alerting.clock.at = at(BERLIN, 15, 30)  # the service was down at 08:00
    await digest_tick(alerting)
    (digest,) = alerting.mails_to(ACME)
    assert "A-3101" in text_of(digest)


async def test_a_weekly_digest_goes_out_on_monday(alerting: Alerting) -> None:
    answer = await say(PreferenceChange(cadence=Cadence.WEEKLY))
    assert "a weekly digest on Monday at 08:00" in answer
    tuesday = (1 - BASE_DAY.weekday()) % 7
    alerting.clock.at = at(BERLIN, 6, days=tuesday)
    await alerting.invoices(("ACME", "A-3201", tuesday, 30, "100.00"))
    await alerting.tick()
    for day in range(tuesday, tuesday + 6):  # Tuesday to Sunday: nothing
        alerting.clock.at = at(BERLIN, 8, 0, days=day)
        await digest_tick(alerting)
    assert alerting.mails_to(ACME) == []

    alerting.clock.at = at(BERLIN, 8, 0, days=tuesday + 6)
    await digest_tick(alerting)
    (digest,) = alerting.mails_to(ACME)
    assert digest["Subject"].startswith("Ihre wöchentliche Rechnungsübersicht")
    (row,) = await Digest.filter(recipient__startswith="contact:")
    year, week, _ = (BASE_DAY + timedelta(days=tuesday + 6)).isocalendar()
    assert row.period == f"{year}-W{week:02d}"


async def test_a_digest_on_telegram_has_a_button_per_invoice(alerting: Alerting) -> None:
    contact = await Contact.get(email=ACME)
    await ChatLink.create(contact=contact, platform="telegram", user_id="9", chat_id="99",
                          linked_at=alerting.clock.now())
    await say(PreferenceChange(channels=("telegram",)))
    alerting.clock.at = at(BERLIN, 6)
    await alerting.invoices(("ACME", "A-3301", 0, 30, "1"), ("ACME", "A-3302", 0, 30, "2"))
    await alerting.tick()
    alerting.clock.at = at(BERLIN, 8)
    await digest_tick(alerting)
    telegram = RecordingChatSender()
    assert await dispatch_once(telegram, now=alerting.clock.now(),
                               signer=alerting.service.signer) == 1

    (delivery,) = telegram.delivered
    assert delivery.recipient == "99"
    assert "Neue Rechnung A-3301" in delivery.text and "Neue Rechnung A-3302" in delivery.text
    assert [b["label"] for b in delivery.buttons] == ["Rechnung A-3301 (PDF) herunterladen",
                                                      "Rechnung A-3302 (PDF) herunterladen"]
    assert (await alerting.download(delivery.buttons[0]["url"])).status_code == 200
    assert alerting.mails_to(ACME) == []


async def test_stop_alerts_cancels_a_waiting_digest(alerting: Alerting) -> None:
    alerting.clock.at = at(BERLIN, 6)
    await alerting.invoices(("ACME", "A-3401", 0, 30, "100.00"))
    await alerting.tick()
    await say(PreferenceChange(stop=True))
    alerting.clock.at = at(BERLIN, 8)
    await digest_tick(alerting)
    assert alerting.mails_to(ACME) == []
    assert not await OutboxMessage.filter(kind="digest").exists()


async def test_a_digest_refused_for_good_switches_that_route_off(alerting: Alerting) -> None:
    contact = await Contact.get(email=ACME)
    await ChatLink.create(contact=contact, platform="telegram", user_id="8", chat_id="88",
                          linked_at=alerting.clock.now())
    await say(PreferenceChange(channels=("telegram", "email")))
    alerting.clock.at = at(BERLIN, 6)
    await alerting.invoices(("ACME", "A-3501", 0, 30, "1"))
    await alerting.tick()
    alerting.clock.at = at(BERLIN, 8)
    await digest_tick(alerting)
    blocked = RecordingChatSender(refuse_with="403 Forbidden: bot was blocked by the user")
    await dispatch_once(blocked, now=alerting.clock.now(), signer=alerting.service.signer)
    await alerting.tick()  # reconciles

    assert [d.state for d in await Digest.filter(recipient__startswith="contact:")
            .order_by("recipient")] == ["sent", "dead"]  # email, telegram
    assert "Channels: email" in await say(PreferenceChange())
    assert len(alerting.mails_to(ACME)) == 1
