"""The alert window (notifier.alert_window, 7 days by default) over the running service:
loading a history is silent without any flag; what happened today is alerted once.

GLOBEX is alerted instantly by email, ACME gets a daily digest (tests/alerting.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from notifier.alerts import is_news
from tests.alerting import BASE_DAY, INVOICE_HEADER, Alerting
from vault.models import Invoice, InvoiceEvent, Notification, OutboxMessage, Payment
from vault.vocabulary import EventKind

GLOBEX = "ap@globex.example"
PAYMENT_HEADER = ["account_id", "invoice_number", "amount", "paid_on", "reference"]


def months_ago(months: int, day: int = 5) -> date:
    """The `day` of the month `months` before BASE_DAY's."""
    index = BASE_DAY.year * 12 + BASE_DAY.month - 1 - months
    return date(index // 12, index % 12 + 1, day)


def history() -> tuple[list[list[str]], list[list[str]]]:
    """16 months of invoices for both accounts, each paid 20 days after issue except the
    last few, which are left open and are overdue by now. Nothing newer than a month."""
    invoices, payments = [], []
    for months in range(16, 0, -1):
        for account, currency in (("GLOBEX", "USD"), ("ACME", "EUR")):
            issued = months_ago(months)
            number = f"H-{account[0]}-{issued:%Y%m}"
            invoices.append([account, number, issued.isoformat(),
                             (issued + timedelta(days=30)).isoformat(), currency, "Services",
                             "1", "100.00", ""])
            if months > 2:
                paid_on = (issued + timedelta(days=20)).isoformat()
                payments.append([account, number, "100.00", paid_on, f"BANK-{number}"])
    return invoices, payments


async def alerts_sent(alerting: Alerting) -> int:
    await alerting.tick()
    await alerting.service.ticks.digests()
    await alerting.settled()
    return len(alerting.sink.messages)


async def test_a_16_month_history_is_loaded_without_a_single_alert(alerting: Alerting) -> None:
    invoices, payments = history()
    await alerting._import("invoices", INVOICE_HEADER, invoices)
    await alerting._import("payments", PAYMENT_HEADER, payments)
    await alerting.service.ticks.sweep()

    assert await alerts_sent(alerting) == 0
    assert await OutboxMessage.all().count() == 0
    assert await Notification.all().count() == 0
    # Recorded all the same: the history and statements are built from it.
    assert await Invoice.all().count() == 32 and await Payment.all().count() == 28
    assert await InvoiceEvent.filter(kind="invoice.issued").count() == 32
    assert await InvoiceEvent.filter(kind="payment.received").count() == 28

    # An invoice issued today, imported after the history, is news: alerted once.
    today = alerting.clock.today("Europe/London")
    await alerting._import("invoices", INVOICE_HEADER, [[
        "GLOBEX", "G-NEW", today.isoformat(), (today + timedelta(days=30)).isoformat(), "USD",
        "Services", "1", "250.00", ""]])
    assert await alerts_sent(alerting) == 1
    assert await alerts_sent(alerting) == 1  # a second tick sends nothing more
    (mail,) = alerting.mails_to(GLOBEX)
    assert mail["Subject"].startswith("New invoice G-NEW: $250.00")


async def test_a_payment_dated_today_alerts_and_one_dated_two_months_ago_does_not(
    alerting: Alerting,
) -> None:
    invoices, _ = history()
    globex = [row for row in invoices if row[0] == "GLOBEX"]
    await alerting._import("invoices", INVOICE_HEADER, globex)
    assert await alerts_sent(alerting) == 0
    old, older = globex[-3][1], globex[-4][1]  # issued 3 and 4 months ago, unpaid, overdue
    today = alerting.clock.today("Europe/London")

    await alerting._import("payments", PAYMENT_HEADER, [
        [account, number, amount, paid_on.isoformat(), f"WIRE-{number}"]
        for account, number, amount, paid_on in (
            ("GLOBEX", older, "100.00", today - timedelta(days=61)),
            ("GLOBEX", old, "100.00", today),
        )
    ])

    assert await alerts_sent(alerting) == 1
    (mail,) = alerting.mails_to(GLOBEX)
    assert mail["Subject"] == f"Invoice {old}: overdue -> paid"
    assert {i.number: i.status for i in await Invoice.filter(number__in=[old, older])} == {
        old: "paid", older: "paid"}


def test_is_news_reads_the_day_it_happened_in_the_sellers_calendar() -> None:
    now = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # already December 1st in Berlin
    week, berlin = timedelta(days=7), ZoneInfo("Europe/Berlin")

    def event(happened_on: date | None, at: datetime = now) -> InvoiceEvent:
        return InvoiceEvent(at=at, kind=EventKind.ISSUED, happened_on=happened_on)

    assert is_news(event(date(2026, 11, 24)), now, week, berlin)  # 7 days ago in Berlin
    assert not is_news(event(date(2026, 11, 23)), now, week, berlin)
    assert is_news(event(date(2026, 11, 23)), now, week, ZoneInfo("UTC"))  # Nov 30 in UTC
    assert is_news(event(date(2027, 1, 15)), now, week, berlin)  # dated ahead: news
    # Without a day of its own (a dispute, a due-soon reminder) it happened when recorded.
    assert is_news(event(None, now - timedelta(days=6)), now, week, berlin)
    assert not is_news(event(None, now - timedelta(days=8)), now, week, berlin)
