"""What happens to invoices (EventKind, stored on InvoiceEvent rows) and what a contact can
choose to be alerted about (AlertEvent, stored in alert preferences).

They differ by one: "overdue" is a status change to overdue, which a contact may want
alone ("only overdue"); "due soon" is an event the sweep records once per invoice.
"""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    ISSUED = "invoice.issued"
    STATUS_CHANGED = "invoice.status_changed"
    PAYMENT_RECEIVED = "payment.received"
    DUE_SOON = "invoice.due_soon"
    CREDIT_NOTE_ISSUED = "credit_note.issued"  # a credit note reduced the invoice's amount due


class AlertEvent(StrEnum):
    ISSUED = "invoice.issued"
    STATUS_CHANGED = "invoice.status_changed"
    PAYMENT_RECEIVED = "payment.received"
    OVERDUE = "invoice.overdue"
    DUE_SOON = "invoice.due_soon"
    CREDIT_NOTE_ISSUED = "credit_note.issued"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def short(self) -> str:
        """The CLI's short name: issued, status_changed, payment, overdue, due_soon,
        credit_note."""
        return _SHORT[self]


_LABELS = {
    AlertEvent.ISSUED: "new invoices",
    AlertEvent.STATUS_CHANGED: "status changes",
    AlertEvent.PAYMENT_RECEIVED: "payments received",
    AlertEvent.OVERDUE: "overdue invoices",
    AlertEvent.DUE_SOON: "invoices due soon",
    AlertEvent.CREDIT_NOTE_ISSUED: "credit notes",
}
_SHORT = {
    AlertEvent.ISSUED: "issued",
    AlertEvent.STATUS_CHANGED: "status_changed",
    AlertEvent.PAYMENT_RECEIVED: "payment",
    AlertEvent.OVERDUE: "overdue",
    AlertEvent.DUE_SOON: "due_soon",
    AlertEvent.CREDIT_NOTE_ISSUED: "credit_note",
}
