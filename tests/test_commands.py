"""The first commands, parsed against a fixed today (2026-11-21)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.commands import parse
from bot.intents import (
    OVERDUE,
    UNPAID,
    Filters,
    Help,
    InvoiceRef,
    ListInvoices,
    Period,
    ShowInvoice,
    Unclear,
)
from vault.models import InvoiceStatus

TODAY = date(2026, 11, 21)
MARCH_2026 = Period(date(2026, 3, 1), date(2026, 3, 31))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("invoices March", ListInvoices(Filters(period=MARCH_2026))),
        ("Invoices MARCH", ListInvoices(Filters(period=MARCH_2026))),
        ("invoices mar", ListInvoices(Filters(period=MARCH_2026))),
        ("invoices 2026-03", ListInvoices(Filters(period=MARCH_2026))),
        ("invoices 03/2026", ListInvoices(Filters(period=MARCH_2026))),
        ("March 2025",
         ListInvoices(Filters(period=Period(date(2025, 3, 1), date(2025, 3, 31))))),
        # the latest December not in the future is last year's
        ("invoices December",
         ListInvoices(Filters(period=Period(date(2025, 12, 1), date(2025, 12, 31))))),
        ("invoices November",
         ListInvoices(Filters(period=Period(date(2026, 11, 1), date(2026, 11, 30))))),
        ("invoice INV-1042", ShowInvoice(InvoiceRef("INV-1042", "INV", (1042,)))),
        ("Can you resend INV-2026-0042?",
         ShowInvoice(InvoiceRef("INV-2026-0042", "INV", (2026, 42)))),
        ("inv 1042", ShowInvoice(InvoiceRef("INV-1042", "INV", (1042,)))),
        ("unpaid", ListInvoices(Filters(statuses=UNPAID))),
        ("what do we still owe?", ListInvoices(Filters(statuses=UNPAID))),
        ("overdue", ListInvoices(Filters(statuses=OVERDUE))),
        ("paid invoices March",
         ListInvoices(Filters(period=MARCH_2026, statuses=(InvoiceStatus.PAID,)))),
        ("help", Help()),
        ("Help?", Help()),
        ("invoices", ListInvoices()),
    ],
)
def test_parse(text: str, expected: object) -> None:
    assert parse(text, TODAY) == expected


@pytest.mark.parametrize("text", ["", "hello there", "from 2025", "Mayday", "13/2026 x"])
def test_not_understood_is_unclear_never_an_error(text: str) -> None:
    assert isinstance(parse(text, TODAY), Unclear)


def test_impossible_month_is_not_a_period() -> None:
    assert parse("invoices 2026-13", TODAY) == ListInvoices()
