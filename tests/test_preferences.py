"""Alert settings: tier defaults, changes from the bot's commands, quiet hours, periods."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.answers.preferences import settings_reply
from bot.intents import PreferenceChange, Preferences
from bot.replies import Formats
from notifier import alerts, preferences
from notifier.digests import last_period
from tests.harness import DATA
from vault.clock import SYSTEM
from vault.config import Config
from vault.config_alerts import AlertsConfig
from vault.ingest.csv import import_csv
from vault.links import LinkSigner
from vault.models import Account, AuditEvent, ChatLink, Contact, Invoice, InvoiceEvent, Notification
from vault.vocabulary import AlertEvent, Cadence

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def vault(orm: str) -> None:
    for kind in ("accounts", "contacts", "invoices"):
        await import_csv(kind, DATA / f"{kind}.csv", progress=False, clock=SYSTEM)


async def ask(email: str, change: PreferenceChange | None,
              alerts_config: AlertsConfig | None = None) -> str:
    contact = await Contact.get(email=email)
    reply = await settings_reply(contact, Preferences(change), Formats.of("en", "UTC"),
                                     alerts=alerts_config or AlertsConfig(), now=SYSTEM.now())
    return reply.as_text()


async def test_a_new_contact_gets_the_defaults_of_the_accounts_tier(vault: None) -> None:
    gold = await ask("ap@acme.example", None)  # ACME is tier gold
    assert "Channels: email" in gold
    assert "How: a daily digest at 08:00" in gold
    assert "About: new invoices, status changes, invoices due soon" in gold
    assert "These are your account's defaults." in gold
    standard = await ask("ap@globex.example", None)
    assert "How: each alert at once" in standard

    await Account.filter(account_id="GLOBEX").update(tier="bronze")  # unknown: standard
    quiet = AlertsConfig(default_quiet_hours=(time(21), time(6)))
    text = await ask("ap@globex.example", None, quiet)
    assert "How: each alert at once" in text and "Quiet hours: 21:00-06:00 (UTC)" in text


async def test_daily_digest_only_overdue_and_quiet_hours_are_stored_and_audited(
    vault: None,
) -> None:
    text = await ask("ap@globex.example", PreferenceChange(
        cadence=Cadence.DAILY, events=(AlertEvent.OVERDUE,), quiet_hours=(time(20), time(7))))
    assert "Done. Your notification settings are now:" in text
    assert "How: a daily digest at 08:00" in text
    assert "About: overdue invoices" in text
    assert "These are your account's defaults." not in text
    contact = await Contact.get(email="ap@globex.example")
    settings = await preferences.settings_for(contact, None)
    assert settings.wants("invoice.status_changed", "overdue")
    assert not settings.wants("invoice.status_changed", "paid")
    assert not settings.wants("invoice.issued")
    audit = await AuditEvent.get(action="notifier.preferences.changed")
    assert audit.contact_id == contact.id and audit.data["via"] == "bot"
    assert audit.data["quiet"] == "20:00-07:00" and audit.data["events"] == ["invoice.overdue"]


async def test_only_overdue_means_only_overdue_changes_become_notifications(
    vault: None, config: Config
) -> None:
    await ask("ap@globex.example", PreferenceChange(events=(AlertEvent.OVERDUE,)))
    invoice = await Invoice.get(number="INV-2026-0305")
    for old, new in (("open", "paid"), ("open", "overdue")):
        await InvoiceEvent.create(at=NOW, kind="invoice.status_changed", account_id=invoice.
                                  account_id, invoice=invoice, old_status=old, new_status=new)
    await InvoiceEvent.create(at=NOW, kind="invoice.issued", account_id=invoice.account_id,
                              invoice=invoice)
    await InvoiceEvent.filter(cause="import").update(expanded=True)  # the import's own
    ctx = alerts.AlertContext(config, LinkSigner(config.secret_keys))
    assert await alerts.expand(ctx, NOW) == 1
    notification = await Notification.get().prefetch_related("event")
    assert notification.event.new_status == "overdue"


async def test_a_channel_that_is_not_linked_is_not_chosen(vault: None) -> None:
    text = await ask("ap@globex.example", PreferenceChange(channels=("telegram",)))
    assert "Your channels are unchanged." in text
    assert "Not linked yet: Telegram." in text
    assert "Channels: email" in text

    contact = await Contact.get(email="ap@globex.example")
    await ChatLink.create(contact=contact, platform="telegram", user_id="1", chat_id="11",
                          linked_at=NOW)
    text = await ask("ap@globex.example", PreferenceChange(channels=("telegram", "email")))
    assert "Channels: Telegram, email" in text


async def test_stop_and_resume_alerts(vault: None) -> None:
    stopped = await ask("ap@globex.example", PreferenceChange(stop=True))
    assert 'you will get no more invoice alerts. Say "resume alerts"' in stopped
    assert "Alerts are stopped." in await ask("ap@globex.example", None)
    resumed = await ask("ap@globex.example", PreferenceChange(resume=True))
    assert "invoice alerts are on again" in resumed and "Channels: email" in resumed


def test_quiet_hours_across_midnight_end_at_their_local_end_time() -> None:
    quiet = (time(20), time(7))
    evening = datetime(2026, 11, 23, 21, 30, tzinfo=BERLIN)
    assert preferences.quiet_until(evening, BERLIN, quiet) == datetime(
        2026, 11, 24, 7, 0, tzinfo=BERLIN)
    early = datetime(2026, 11, 24, 6, 59, tzinfo=BERLIN)
    assert preferences.quiet_until(early, BERLIN, quiet) == datetime(2026, 11, 24, 7, 0,
                                                                     tzinfo=BERLIN)
    assert preferences.quiet_until(datetime(2026, 11, 24, 7, 0, tzinfo=BERLIN), BERLIN,
                                   quiet) is None
    assert preferences.quiet_until(evening, BERLIN, None) is None
    lunch = (time(12), time(13))
    assert preferences.quiet_until(datetime(2026, 11, 24, 12, 30, tzinfo=BERLIN), BERLIN,
                                   lunch) == datetime(2026, 11, 24, 13, tzinfo=BERLIN)
    # The night clocks go forward (28 March 2027): 07:00 local is 05:00 UTC, not 06:00.
    spring = datetime(2027, 3, 27, 23, 0, tzinfo=BERLIN)
    assert preferences.quiet_until(spring, BERLIN, quiet) == datetime(2027, 3, 28, 5, 0,
                                                                      tzinfo=UTC)


def test_a_period_is_the_last_digest_moment_at_or_before_now() -> None:
    eight = time(8)
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)
    assert last_period(monday, BERLIN, eight).key == "2026-11-23"
    assert last_period(monday.replace(minute=0, hour=7), BERLIN, eight).key == "2026-11-22"
    weekly = last_period(datetime(2026, 11, 29, 23, 0, tzinfo=BERLIN), BERLIN, eight, 0)
    assert (weekly.key, weekly.moment) == ("2026-W48", monday)
    assert last_period(monday, BERLIN, eight, 0).key == "2026-W48"
    assert last_period(monday.replace(hour=7), BERLIN, eight, 0).key == "2026-W47"
