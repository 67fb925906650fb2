"""The first commands, parsed against a fixed today (2026-11-21)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.commands import (
    OVERDUE,
    UNPAID,
    Help,
    ListInvoices,
    Period,
    ShowInvoice,
    Unclear,
    parse,
)
from vault.models import InvoiceStatus

TODAY = date(2026, 11, 21)
MARCH_2026 = Period(date(2026, 3, 1), date(2026, 3, 31))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("invoices March", ListInvoices(period=MARCH_2026)),
        ("Invoices MARCH", ListInvoices(period=MARCH_2026)),
        ("invoices mar", ListInvoices(period=MARCH_2026)),
        ("invoices 2026-03", ListInvoices(period=MARCH_2026)),
        ("invoices 03/2026", ListInvoices(period=MARCH_2026)),
        ("March 2025", ListInvoices(period=Period(date(2025, 3, 1), date(2025, 3, 31)))),
        # the latest December not in the future is last year's
        ("invoices December", ListInvoices(period=Period(date(2025, 12, 1), date(2025, 12, 31)))),
        ("invoices November", ListInvoices(period=Period(date(2026, 11, 1), date(2026, 11, 30)))),
        ("invoice INV-1042", ShowInvoice("INV-1042")),
        ("Can you resend INV-2026-0042?", ShowInvoice("INV-2026-0042")),
        ("inv 1042", ShowInvoice("INV-1042")),
        ("unpaid", ListInvoices(statuses=UNPAID)),
        ("what do we still owe?", ListInvoices(statuses=UNPAID)),
        ("overdue", ListInvoices(statuses=OVERDUE)),
        ("paid invoices March", ListInvoices(period=MARCH_2026, statuses=(InvoiceStatus.PAID,))),
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
