"""The account-scoped query layer: the only way code acting for a contact reads the vault.

An AccountScope can only be made from a Contact, and every query it runs is filtered by
that contact's account, so no code path that holds a scope can return another account's
rows. Other modules acting for a contact must not import Invoice/Payment/Document
querysets directly (tests/test_scope.py checks the bot package for that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from vault import events
from vault.models import Account, Contact, Document, Invoice, InvoiceStatus, Payment
from vault.timeutil import utcnow

UNPAID = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.OVERDUE)


def derive_status(
    total: Decimal, amount_paid: Decimal, due_date: date, file_status: str, today: date
) -> InvoiceStatus:
    """Void and disputed come from the source; the rest follows from payments and dates."""
    if file_status in (InvoiceStatus.VOID, InvoiceStatus.DISPUTED):
        return InvoiceStatus(file_status)
    if amount_paid >= total:
        return InvoiceStatus.PAID
    if due_date < today:
        return InvoiceStatus.OVERDUE
    if amount_paid > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN


@dataclass(frozen=True)
class AccountScope:
    """Reads on behalf of one contact, limited to that contact's account."""

    contact: Contact
    account: Account

    @classmethod
    async def for_contact(cls, contact: Contact) -> AccountScope:
        account = await Account.get(id=contact.account_id)
        return cls(contact=contact, account=account)

    def invoices(self) -> QuerySet[Invoice]:
        return Invoice.filter(account_id=self.account.id)

    async def in_period(
        self, start: date, end: date, statuses: tuple[InvoiceStatus, ...] = ()
    ) -> list[Invoice]:
        """Invoices issued in [start, end], newest first."""
        query = self.invoices().filter(issue_date__gte=start, issue_date__lte=end)
        if statuses:
            query = query.filter(status__in=list(statuses))
        return await query.order_by("-issue_date", "-number")

    async def with_status(self, statuses: tuple[InvoiceStatus, ...]) -> list[Invoice]:
        return await self.invoices().filter(status__in=list(statuses)).order_by("due_date")

    async def by_number(self, number: str) -> Invoice | None:
        """One invoice of this account; another account's number is simply not found."""
        return await self.invoices().get_or_none(number=number)

    async def recent(self, limit: int) -> list[Invoice]:
        return await self.invoices().order_by("-issue_date", "-number").limit(limit)

    async def latest(self) -> Invoice | None:
        return await self.invoices().order_by("-issue_date", "-number").first()

    async def payments(self, invoice: Invoice) -> list[Payment]:
        return await Payment.filter(account_id=self.account.id, invoice_id=invoice.id).order_by(
            "paid_on"
        )

    async def documents(self, document_ids: list[int]) -> list[Document]:
        """Documents of this account's invoices only, in the order asked."""
        owned = await self.invoices().filter(document_id__in=document_ids).values_list(
            "document_id", flat=True
        )
        found = {d.id: d for d in await Document.filter(id__in=list(owned))}
        return [found[i] for i in document_ids if i in found]


async def sweep_overdue(today: date, now: datetime | None = None) -> int:
    """Unpaid invoices past their due date become overdue; returns how many changed.

    Each flip and its status event are written in one transaction, and only by the
    sweep whose conditional update changed the row, so two sweeps (two processes on
    PostgreSQL) never alert twice. Not scoped: this is the seller's own housekeeping.
    """
    changed = 0
    while batch := await _sweep_batch(today, now or utcnow()):
        changed += batch
    return changed


async def _sweep_batch(today: date, now: datetime, size: int = 500) -> int:
    unpaid = [InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID]
    async with in_transaction():
        due = await Invoice.filter(status__in=unpaid, due_date__lt=today).order_by(
            "id").limit(size).select_for_update(skip_locked=True)
        flipped: list[tuple[Invoice, str]] = []
        for invoice in due:
            updated = await Invoice.filter(id=invoice.id, status=invoice.status).update(
                status=InvoiceStatus.OVERDUE, updated_at=now)
            if updated == 1:
                flipped.append((invoice, str(invoice.status)))
                invoice.status = InvoiceStatus.OVERDUE
        await events.record(events.status_events(flipped, cause="sweep"), now)
    return len(flipped)
