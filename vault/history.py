"""An invoice's status history, as the contact can understand it.

There is no status log written by every importer; the history follows from what is
recorded: the issue date, each payment (partially paid, then paid), the due date passing
while money was still owed (overdue), the Dispute rows (disputed, resolved) and a void
mark from the ledger (dated by the row's last change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from vault.invoices import AccountScope
from vault.models import Invoice, InvoiceStatus, Payment


@dataclass(frozen=True)
class StatusEvent:
    day: date
    status: InvoiceStatus
    note: str = ""


async def status_history(scope: AccountScope, invoice: Invoice, today: date) -> list[StatusEvent]:
    """Oldest first; the last event's status is the invoice's status today."""
    payments = await scope.payments(invoice)
    events = [StatusEvent(invoice.issue_date, InvoiceStatus.OPEN, "issued"),
              *_payment_events(invoice, payments)]
    if (overdue := _overdue_from(invoice, payments, today)) is not None:
        events.append(StatusEvent(overdue, InvoiceStatus.OVERDUE, "due date passed"))
    events += await _dispute_events(scope, invoice)
    if invoice.status == InvoiceStatus.VOID:
        events.append(StatusEvent(invoice.updated_at.date(), InvoiceStatus.VOID, "voided"))
    return sorted(events, key=lambda e: e.day)


async def _dispute_events(scope: AccountScope, invoice: Invoice) -> list[StatusEvent]:
    """Who disputed, when and why; a dispute only the ledger file records (no Dispute
    row) is dated by the row's last change."""
    disputes = await scope.disputes(invoice)
    if not disputes:
        if invoice.status != InvoiceStatus.DISPUTED:
            return []
        return [StatusEvent(invoice.updated_at.date(), InvoiceStatus.DISPUTED,
                            "disputed, as our records show")]
    names = await scope.contact_names([d.contact_id for d in disputes if d.contact_id])
    events = []
    for dispute in disputes:
        who = names.get(dispute.contact_id or 0, "")
        why = f"“{dispute.reason}”" if dispute.reason else "no reason given"
        events.append(StatusEvent(dispute.at.date(), InvoiceStatus.DISPUTED,
                                  f"by {who}: {why}" if who else why))
        if dispute.resolved_at is not None and scope.happened(dispute.resolved_at.date()):
            events.append(StatusEvent(dispute.resolved_at.date(), InvoiceStatus.OPEN,
                                      "dispute resolved"))
    return events


def _payment_events(invoice: Invoice, payments: list[Payment]) -> list[StatusEvent]:
    paid, events = Decimal(0), []
    for payment in payments:
        paid += payment.amount
        status = InvoiceStatus.PAID if paid >= invoice.total else InvoiceStatus.PARTIALLY_PAID
        events.append(StatusEvent(payment.paid_on, status, "payment received"))
    return events


def _overdue_from(invoice: Invoice, payments: list[Payment], today: date) -> date | None:
    """The day after the due date, if the invoice was not fully paid by then."""
    if invoice.due_date >= today or invoice.status == InvoiceStatus.VOID:
        return None
    paid_by_due = sum((p.amount for p in payments if p.paid_on <= invoice.due_date), Decimal(0))
    return invoice.due_date + timedelta(days=1) if paid_by_due < invoice.total else None
