"""One invoice's amounts as every answer tells them: what is still due, and whether it is
overdue or disputed. Listings, the detail, balance, aging, statements, alerts and digests
all ask `standing`, so their counts and sums agree.

The rule for a disputed invoice: it is still owed (a dispute does not forgive it), so it
counts in the outstanding balance and in aging (a disputed debt still ages); it is listed
and counted as disputed, never as overdue, whatever its due date. So:

    outstanding = not yet due + overdue + disputed   (each invoice in exactly one part)
    "unpaid" lists the first two, "overdue" the second, "disputed" the third.

Void invoices were never owed; paid ones owe nothing (an overpayment is a credit, not a
negative amount due). A credit note allocated to an invoice (vault.models.CreditNote)
reduces what it owes as a payment does: due = total - paid - credited, never below zero,
so a credit note that covers the balance settles the invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from vault.models import Invoice
from vault.vocabulary import InvoiceStatus

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Standing:
    """What an invoice owes on a day, and in which part of the balance it counts."""

    due: Decimal  # still to pay, never negative; zero when paid or void
    overdue: bool  # owed, past its due date and not disputed
    disputed: bool  # a dispute is open (owed or not)

    @property
    def owed(self) -> bool:
        return self.due > 0


def standing(total: Decimal, paid: Decimal, due_date: date, status: str, today: date,
             credited: Decimal = ZERO) -> Standing:
    """The one rule for an invoice's amount due, overdue flag and dispute state on `today`.

    `paid`, `credited` and `status` must be as of `today` (AccountScope.seen gives them
    for `as_of`).
    """
    if status == InvoiceStatus.VOID:
        return Standing(ZERO, overdue=False, disputed=False)
    due = max(total - paid - credited, ZERO)
    disputed = status == InvoiceStatus.DISPUTED
    return Standing(due, overdue=due > 0 and not disputed and due_date < today,
                    disputed=disputed)


def of(invoice: Invoice, today: date) -> Standing:
    """`standing` of an invoice row as read (through AccountScope: as of its day)."""
    return standing(invoice.total, invoice.amount_paid, invoice.due_date, invoice.status, today,
                    invoice.amount_credited)


def due_of(invoice: Invoice) -> Decimal:
    """What is still to pay on the invoice (it does not depend on the day)."""
    return of(invoice, invoice.due_date).due
