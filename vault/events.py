"""Invoice events: the transactional outbox every path that changes invoices writes to.

Call these INSIDE the transaction that makes the change (`async with in_transaction():`;
Tortoise routes every query of the task to that transaction), so an event exists if and
only if its change was committed. The notifier reads the rows later and expands them into
notifications; vault itself knows nothing about alerts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from vault.models import Invoice, InvoiceEvent
from vault.vocabulary import EventKind, InvoiceStatus

# Invoices that can still be "due soon": not overdue yet, not settled, not in question.
_DUE_SOON_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)
BATCH = 500
_silenced: ContextVar[bool] = ContextVar("invoicebot_events_silenced", default=False)


def first_news_day(now: datetime, window: timedelta, zone: ZoneInfo) -> date:
    """The alert window's one day rule: a fact (an invoice issued, a payment paid) on this
    seller's day or later is news, alerted and rendered at once; earlier is history."""
    return (now - window).astimezone(zone).date()


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Record events as already handled: for loading history (`import --no-alerts`, the
    demo), whose invoices are not news to anyone. The rows stay, as a trail."""
    token = _silenced.set(True)
    try:
        yield
    finally:
        _silenced.reset(token)


@dataclass(frozen=True)
class Event:
    """One event to record. `key` makes it once-only (a second record is ignored)."""

    kind: EventKind
    account_id: int
    invoice_id: int
    cause: str
    old_status: InvoiceStatus | None = None  # a status change's; None on other events
    new_status: InvoiceStatus | None = None
    amount: Decimal | None = None
    key: str | None = None
    # The seller's day the fact happened (issue date, paid_on, ...); None: when recorded.
    # The notifier alerts only events inside its window (notifier.alerts.is_news).
    happened_on: date | None = None
    by_contact_id: int | None = None  # whose own act it was: not alerted to them


async def record(events: Sequence[Event], at: datetime) -> None:
    """Write events in the caller's transaction; keyed events already recorded are skipped."""
    if not events:
        return
    rows = [
        InvoiceEvent(
            at=at, kind=e.kind, account_id=e.account_id, invoice_id=e.invoice_id,
            old_status=e.old_status, new_status=e.new_status, amount=e.amount,
            cause=e.cause, key=e.key, happened_on=e.happened_on, expanded=_silenced.get(),
            by_contact_id=e.by_contact_id,
        )
        for e in events
    ]
    keyed = any(e.key is not None for e in events)
    await InvoiceEvent.bulk_create(rows, batch_size=BATCH, ignore_conflicts=keyed)


async def status_changed(
    invoice: Invoice, old: InvoiceStatus, new: InvoiceStatus, at: datetime, *, cause: str,
    by_contact_id: int | None = None,
) -> None:
    """Record a status change of one invoice (call inside the transaction that saved it).

    For paths outside the import, e.g. a dispute raised from the bot:
        async with in_transaction():
            invoice.status = InvoiceStatus.DISPUTED; await invoice.save(...)
            await status_changed(invoice, old, InvoiceStatus.DISPUTED, now, cause="dispute")
    Nothing is recorded when old == new. `by_contact_id`: the contact who made the change
    (the disputer), who already has our answer and gets no alert of it.
    """
    if old == new:
        return
    event = Event(EventKind.STATUS_CHANGED, invoice.account_id, invoice.id, cause,
                  old_status=InvoiceStatus(old), new_status=InvoiceStatus(new),
                  by_contact_id=by_contact_id)
    await record([event], at)


def status_events(
    changes: Sequence[tuple[Invoice, InvoiceStatus]], cause: str,
    days: Mapping[int, date] | None = None,
) -> list[Event]:
    """Events for invoices whose status moved from the given old status to invoice.status.

    `days` (invoice id -> day) says when the cause happened, e.g. the last payment's
    paid_on; a move to overdue happened the day after the due date, whatever the cause.
    """
    return [
        Event(EventKind.STATUS_CHANGED, invoice.account_id, invoice.id, cause,
              old_status=InvoiceStatus(old), new_status=InvoiceStatus(invoice.status),
              happened_on=_cause_day(invoice, days))
        for invoice, old in changes
        if old != invoice.status
    ]


def _cause_day(invoice: Invoice, days: Mapping[int, date] | None) -> date | None:
    if invoice.status == InvoiceStatus.OVERDUE:
        return invoice.due_date + timedelta(days=1)
    return (days or {}).get(invoice.id)


async def record_due_soon(today: date, days: int, at: datetime) -> int:
    """Invoices due within `days` days of `today` get one due-soon event per due date.

    Idempotent: the key (invoice, due date) makes a second tick, a second process or a
    tick after a restart record nothing new; a moved due date earns a new reminder.
    Returns how many invoices are in the window (recorded now or before).
    """
    window = Invoice.filter(
        status__in=list(_DUE_SOON_STATUSES), due_date__gte=today,
        due_date__lte=today + timedelta(days=days),
    )
    found = await window.values_list("id", "account_id", "due_date")
    events = [
        Event(EventKind.DUE_SOON, int(account), int(pk), "due_soon",
              key=f"due_soon:{pk}:{due.isoformat()}")
        for pk, account, due in found
    ]
    for start in range(0, len(events), BATCH):
        async with in_transaction():
            await record(events[start : start + BATCH], at)
    return len(events)
