"""An invoice's status and the word a contact reads for it."""

from __future__ import annotations

from enum import StrEnum


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    VOID = "void"
    DISPUTED = "disputed"

    @property
    def label(self) -> str:
        """The word in replies, alerts, PDFs and the status history."""
        return _LABELS[self]

    @property
    def settled(self) -> bool:
        """Nothing more is owed on it (paid or void)."""
        return self in (InvoiceStatus.PAID, InvoiceStatus.VOID)

    @classmethod
    def label_of(cls, value: str) -> str:
        """The label of a stored value; an unknown one is shown as it is."""
        try:
            return cls(value).label
        except ValueError:
            return value


_LABELS = {
    InvoiceStatus.OPEN: "open",
    InvoiceStatus.PARTIALLY_PAID: "partially paid",
    InvoiceStatus.PAID: "paid",
    InvoiceStatus.OVERDUE: "overdue",
    InvoiceStatus.VOID: "void",
    InvoiceStatus.DISPUTED: "disputed",
}
