"""What an account owes: balances and aging per currency.

Amounts are never added across currencies. An item is (currency, due date, amount due);
aging sorts items by days past due into the usual buckets. The same functions serve the
"balance" and "aging" answers (today, from the invoices' paid amounts) and the statement
(at the period's end, from the payments received by then). What an invoice owes, and
whether it is overdue or disputed, is vault.amounts.standing's: see its rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from vault import amounts
from vault.invoices import AccountScope
from vault.models import Invoice

BUCKETS = ("Current", "1-30 days", "31-60 days", "61-90 days", "Over 90 days")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Owed:
    """One invoice's unpaid amount."""

    currency: str
    due_date: date
    amount: Decimal
    disputed: bool = False
    overdue: bool = False  # past due and not disputed (vault.amounts)


@dataclass(frozen=True)
class AgingRow:
    currency: str
    buckets: tuple[Decimal, ...]  # one per BUCKETS

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


@dataclass
class BalanceRow:
    currency: str
    outstanding: Decimal = ZERO  # everything owed, disputed included
    overdue: Decimal = ZERO  # of which past its due date and not disputed
    disputed: Decimal = ZERO  # of which in dispute (never counted as overdue)
    invoices: int = 0
    overdue_invoices: int = 0
    disputed_invoices: int = 0
    oldest_overdue: date | None = field(default=None)


def bucket(days_past_due: int) -> int:
    """Index into BUCKETS: not yet due is current; then 1-30, 31-60, 61-90, over 90."""
    if days_past_due <= 0:
        return 0
    return min((days_past_due - 1) // 30 + 1, len(BUCKETS) - 1)


def age(items: Iterable[Owed], as_of: date) -> list[AgingRow]:
    """Aging per currency, currencies sorted."""
    sums: dict[str, list[Decimal]] = {}
    for item in items:
        row = sums.setdefault(item.currency, [ZERO] * len(BUCKETS))
        row[bucket((as_of - item.due_date).days)] += item.amount
    return [AgingRow(c, tuple(sums[c])) for c in sorted(sums)]


def balances(items: Iterable[Owed]) -> list[BalanceRow]:
    rows: dict[str, BalanceRow] = {}
    for item in items:
        row = rows.setdefault(item.currency, BalanceRow(item.currency))
        row.outstanding += item.amount
        row.invoices += 1
        if item.disputed:
            row.disputed += item.amount
            row.disputed_invoices += 1
        if item.overdue:
            row.overdue += item.amount
            row.overdue_invoices += 1
            row.oldest_overdue = min(row.oldest_overdue or item.due_date, item.due_date)
    return [rows[c] for c in sorted(rows)]


def owed_item(invoice: Invoice, today: date) -> Owed:
    now = amounts.of(invoice, today)
    return Owed(invoice.currency, invoice.due_date, now.due, now.disputed, now.overdue)


async def owed_now(scope: AccountScope, today: date,
                   entities: tuple[str, ...] | None = None) -> list[Owed]:
    """What the scope's account owes on `today` (its as_of day), invoice by invoice."""
    items = [owed_item(i, today) for i in await scope.owed(entities)]
    return [i for i in items if i.amount > 0]
