"""Aging buckets and balances: per currency, boundaries where AR expects them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.answers.statement import year_to_date
from bot.intents import Period
from vault.aging import BUCKETS, Owed, age, balances, bucket

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize(("days", "name"), [
    (-10, "Current"), (0, "Current"), (1, "1-30 days"), (30, "1-30 days"),
    (31, "31-60 days"), (60, "31-60 days"), (61, "61-90 days"), (90, "61-90 days"),
    (91, "Over 90 days"), (4000, "Over 90 days"),
])
def test_bucket_boundaries(days: int, name: str) -> None:
    assert BUCKETS[bucket(days)] == name


def owed(currency: str, days_past_due: int, amount: str, disputed: bool = False) -> Owed:
    return Owed(currency, TODAY - timedelta(days=days_past_due), Decimal(amount), disputed,
                overdue=days_past_due > 0 and not disputed)


def test_aging_never_adds_currencies() -> None:
    rows = age([owed("EUR", 5, "10.00"), owed("USD", 5, "20.00"), owed("EUR", 95, "1.50")],
               TODAY)
    assert [(r.currency, r.buckets[1], r.buckets[4], r.total) for r in rows] == [
        ("EUR", Decimal("10.00"), Decimal("1.50"), Decimal("11.50")),
        ("USD", Decimal("20.00"), Decimal("0.00"), Decimal("20.00")),
    ]


def test_balance_counts_disputed_within_the_outstanding_and_never_as_overdue() -> None:
    (row,) = balances([owed("EUR", -3, "100.00"), owed("EUR", 10, "50.00"),
                       owed("EUR", 40, "25.00", disputed=True)])
    assert (row.outstanding, row.overdue, row.disputed) == (
        Decimal("175.00"), Decimal("50.00"), Decimal("25.00"))
    assert (row.invoices, row.overdue_invoices, row.disputed_invoices) == (3, 1, 1)
    assert row.oldest_overdue == TODAY - timedelta(days=10)


@pytest.mark.parametrize(("start_month", "expected"), [
    (1, Period(date(2026, 1, 1), TODAY)),
    (4, Period(date(2026, 4, 1), TODAY)),
    (12, Period(date(2025, 12, 1), TODAY)),
])
def test_a_statement_without_a_period_runs_from_the_fiscal_year_start(
    start_month: int, expected: Period
) -> None:
    assert year_to_date(TODAY, start_month) == expected
