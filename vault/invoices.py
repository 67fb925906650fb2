"""The account-scoped query layer: the only way code acting for a contact reads the vault.

An AccountScope can only be made from a Contact, and every query it runs is filtered by
that contact's account, so no code path that holds a scope can return another account's
rows. Other modules acting for a contact must not import Invoice/Payment/Document
querysets directly (tests/test_layers.py checks the bot package for that).

A scope may answer as of a past day (`as_of`, from the clock of `invoicebot ask --today`):
then invoices issued and payments made after it do not exist, and each invoice's amount
paid and status are what they were on that day (its payments by then, its due date
against that day, the disputes open that day). Those values are set on the returned
Invoice objects only; they are never saved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from rapidfuzz import fuzz, process, utils
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from vault import events
from vault.models import (
    Account,
    Contact,
    CreditNote,
    Dispute,
    Document,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    Receipt,
    Statement,
)

UNPAID = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.OVERDUE)
# Money still owed: the unpaid statuses and disputed (disputed is not forgiven).
OWED = (*UNPAID, InvoiceStatus.DISPUTED)
ENTITY_CUTOFF = 85  # rapidfuzz WRatio: "acme freight" finds "ACME Freight GmbH"


def derive_status(
    total: Decimal, amount_paid: Decimal, due_date: date, file_status: str, today: date,
    credited: Decimal = Decimal(0),
) -> InvoiceStatus:
    """Void and disputed come from the source; the rest follows from payments, credit
    notes and dates (a credit note settles as a payment does: vault.amounts)."""
    if file_status in (InvoiceStatus.VOID, InvoiceStatus.DISPUTED):
        return InvoiceStatus(file_status)
    if amount_paid + credited >= total:
        return InvoiceStatus.PAID
    if due_date < today:
        return InvoiceStatus.OVERDUE
    if amount_paid > 0 or credited > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN


@dataclass(frozen=True)
class InvoiceQuery:
    """What narrows a search of one account's invoices; the fields combine with AND.

    `entities` are exact billing-entity names (resolve loose ones with
    AccountScope.match_entities first); an empty tuple matches nothing, None everything.
    """

    start: date | None = None
    end: date | None = None  # inclusive
    statuses: tuple[InvoiceStatus, ...] = ()
    po_number: str | None = None
    min_total: Decimal | None = None  # strictly above
    max_total: Decimal | None = None  # strictly below
    total: Decimal | None = None
    currency: str | None = None
    entities: tuple[str, ...] | None = None
    due_start: date | None = None  # due dates from here (inclusive)
    due_end: date | None = None  # due dates up to here (inclusive)
    by_due: bool = False  # soonest due first, instead of newest issued first


@dataclass(frozen=True)
class AccountScope:
    """Reads on behalf of one contact, limited to that contact's account (and, with
    `as_of`, to what existed on that day)."""

    contact: Contact
    account: Account
    as_of: date | None = None
    # An invoice's payments, read once per scope: one answer about an invoice shows its
    # payments, their receipts and its status history, each from the same rows.
    _payments_of: dict[int, list[Payment]] = field(default_factory=dict, compare=False,
                                                   repr=False)
    # Documents found to be this account's, by id: a reply reads its PDFs' rows, then
    # grants links to them, which checks them again (a document never changes account).
    _owned: dict[int, Document] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    async def for_contact(cls, contact: Contact, as_of: date | None = None) -> AccountScope:
        account = await Account.get(id=contact.account_id)
        return cls(contact=contact, account=account, as_of=as_of)

    def invoices(self) -> QuerySet[Invoice]:
        """The account's invoice rows (issued by `as_of`); their amount paid and status
        are today's: read invoices for a contact through the methods, which age them."""
        found = Invoice.filter(account_id=self.account.id)
        return found if self.as_of is None else found.filter(issue_date__lte=self.as_of)

    def happened(self, day: date) -> bool:
        """Whether something dated `day` had happened by the day this scope answers for."""
        return self.as_of is None or day <= self.as_of

    async def seen(self, invoices: Iterable[Invoice]) -> list[Invoice]:
        """These invoices as they stood on `as_of` (unchanged when answering live)."""
        found = list(invoices)
        if self.as_of is None or not found:
            return found
        ids = [i.id for i in found]
        paid: dict[int, Decimal] = defaultdict(Decimal)
        for invoice_id, amount in await self._payments().filter(invoice_id__in=ids).values_list(
                "invoice_id", "amount"):
            paid[invoice_id] += amount
        credited: dict[int, Decimal] = defaultdict(Decimal)
        for invoice_id, amount in await self._credit_notes().filter(
                invoice_id__in=ids).values_list("invoice_id", "amount"):
            credited[invoice_id] += amount
        disputes: dict[int, list[Dispute]] = defaultdict(list)
        for dispute in await Dispute.filter(account_id=self.account.id, invoice_id__in=ids):
            disputes[dispute.invoice_id].append(dispute)
        for invoice in found:
            invoice.amount_paid, invoice.amount_credited = paid[invoice.id], credited[invoice.id]
            invoice.status = _status_on(invoice, paid[invoice.id], credited[invoice.id],
                                        disputes[invoice.id], self.as_of)
        return found

    async def _listed(self, query: QuerySet[Invoice],
                      statuses: tuple[InvoiceStatus, ...] = ()) -> list[Invoice]:
        """Run `query`; with `as_of`, filter by the statuses of that day, not today's."""
        if self.as_of is None:
            return await (query.filter(status__in=list(statuses)) if statuses else query)
        found = await self.seen(await query)
        return [i for i in found if i.status in statuses] if statuses else found

    def _payments(self) -> QuerySet[Payment]:
        found = Payment.filter(account_id=self.account.id)
        return found if self.as_of is None else found.filter(paid_on__lte=self.as_of)

    def _credit_notes(self) -> QuerySet[CreditNote]:
        found = CreditNote.filter(account_id=self.account.id)
        return found if self.as_of is None else found.filter(issue_date__lte=self.as_of)

    async def credit_notes(self, invoice: Invoice) -> list[CreditNote]:
        """The credit notes allocated to the invoice (issued by `as_of`), oldest first."""
        return await self._credit_notes().filter(invoice_id=invoice.id).order_by(
            "issue_date", "number")

    async def credit_notes_between(self, start: date | None, end: date | None
                                   ) -> list[CreditNote]:
        """The account's credit notes issued in [start, end] (allocated or not), oldest
        first, with their invoices."""
        query = self._credit_notes()
        if start is not None:
            query = query.filter(issue_date__gte=start)
        if end is not None:
            query = query.filter(issue_date__lte=end)
        return await query.select_related("invoice").order_by("issue_date", "number")

    async def search(self, query: InvoiceQuery, limit: int | None = None,
                     oldest_first: bool = False) -> list[Invoice]:
        """The account's invoices matching `query`, newest first (or oldest first; or, with
        query.by_due, soonest due first), at most `limit` of them."""
        order = ("issue_date", "number") if oldest_first else ("-issue_date", "-number")
        if query.by_due:
            order = ("due_date", "number")
        found = self._matching(query).order_by(*order)
        if self.as_of is None or not query.statuses:  # SQL can limit: the status is stored
            found = found.limit(limit) if limit else found
            return await self._listed(found, query.statuses)
        listed = await self._listed(found, query.statuses)
        return listed[:limit] if limit else listed

    def _matching(self, query: InvoiceQuery) -> QuerySet[Invoice]:
        found = self.invoices()
        if query.start is not None:
            found = found.filter(issue_date__gte=query.start)
        if query.end is not None:
            found = found.filter(issue_date__lte=query.end)
        if query.due_start is not None:
            found = found.filter(due_date__gte=query.due_start)
        if query.due_end is not None:
            found = found.filter(due_date__lte=query.due_end)
        if query.po_number:
            found = found.filter(_po_matches(query.po_number))
        if query.currency:
            found = found.filter(currency=query.currency.upper())
        if query.entities is not None:
            found = found.filter(entity__in=list(query.entities))
        return _amounts(found, query)

    async def entity_names(self) -> list[str]:
        """The account's billing entities, sorted."""
        names = await self.invoices().distinct().values_list("entity", flat=True)
        return sorted({str(n) for n in names if n})

    async def match_entities(self, written: str) -> tuple[str, ...]:
        """The account's billing entities that `written` names, best first (typos welcome).

        Only this account's entity names are ever compared, so nothing leaks.
        """
        names = await self.entity_names()
        scored = process.extract(written, names, scorer=fuzz.WRatio,
                                 processor=utils.default_process, score_cutoff=ENTITY_CUTOFF,
                                 limit=None)
        if not scored:
            return ()
        best = scored[0][1]
        return tuple(str(name) for name, score, _ in scored if score >= best - 5)

    async def recent(self, limit: int) -> list[Invoice]:
        return await self._listed(self.invoices().order_by("-issue_date", "-number").limit(limit))

    async def latest(self) -> Invoice | None:
        found = await self.recent(1)
        return found[0] if found else None

    async def payments(self, invoice: Invoice) -> list[Payment]:
        """The invoice's payments (by `as_of`), oldest first."""
        if invoice.id not in self._payments_of:
            self._payments_of[invoice.id] = await self._payments().filter(
                invoice_id=invoice.id).order_by("paid_on")
        return list(self._payments_of[invoice.id])

    async def last_paid(self, invoices: list[Invoice]) -> dict[int, date]:
        """The day of each invoice's latest payment (by `as_of`), for those paid at all."""
        found: dict[int, date] = {}
        rows = await self._payments().filter(
            invoice_id__in=[i.id for i in invoices]).values_list("invoice_id", "paid_on")
        for invoice_id, paid_on in rows:
            found[invoice_id] = max(found.get(invoice_id, paid_on), paid_on)
        return found

    async def lines(self, invoice: Invoice) -> list[InvoiceLine]:
        return await InvoiceLine.filter(
            invoice_id=invoice.id, invoice__account_id=self.account.id
        ).order_by("position")

    async def payments_between(
        self, start: date | None, end: date | None, limit: int | None = None
    ) -> list[Payment]:
        """The account's payments received in [start, end], newest first, with invoices."""
        query = self._payments()
        if start is not None:
            query = query.filter(paid_on__gte=start)
        if end is not None:
            query = query.filter(paid_on__lte=end)
        query = query.select_related("invoice").order_by("-paid_on", "-id")
        return await (query.limit(limit) if limit else query)

    async def owed(self, entities: tuple[str, ...] | None = None) -> list[Invoice]:
        """Invoices with money still owed (unpaid or disputed), oldest due first."""
        query = self.invoices()
        if entities is not None:
            query = query.filter(entity__in=list(entities))
        return await self._listed(query.order_by("due_date", "number"), OWED)

    async def disputes(self, invoice: Invoice) -> list[Dispute]:
        """The invoice's disputes raised by `as_of` (a later resolution still shows: check
        it with `happened`)."""
        found = await Dispute.filter(account_id=self.account.id, invoice_id=invoice.id).order_by(
            "at"
        )
        return [d for d in found if self.happened(d.at.date())]

    async def contact_names(self, contact_ids: list[int]) -> dict[int, str]:
        """The name (or address) of each of these contacts of this account."""
        found = await Contact.filter(account_id=self.account.id, id__in=contact_ids)
        return {c.id: c.name or c.email for c in found}

    async def receipts(self, payments: list[Payment]) -> dict[int, Document]:
        """The receipts issued for these payments of this account, by payment id."""
        if not payments:
            return {}
        found = await Receipt.filter(account_id=self.account.id,
                                     payment_id__in=[p.id for p in payments])
        documents = {d.id: d for d in await Document.filter(
            id__in=[r.document_id for r in found])}
        self._owned.update(documents)  # receipts of this account's payments
        return {r.payment_id: documents[r.document_id] for r in found}

    async def documents(self, document_ids: list[int]) -> list[Document]:
        """Documents of this account's invoices, credit notes, receipts and statements
        only, in the order asked. Each owner is asked only for the ids the ones before
        it did not own: a listing's PDFs are all invoices', so it costs two queries."""
        owned: set[int] = set()
        for owners in (self.invoices(), Statement.filter(account_id=self.account.id),
                       Receipt.filter(account_id=self.account.id), self._credit_notes()):
            rest = [i for i in document_ids if i not in owned and i not in self._owned]
            if not rest:
                break
            found: list[int] = await owners.filter(document_id__in=rest).values_list(
                "document_id", flat=True)  # type: ignore[assignment]
            owned.update(found)
        if owned:
            self._owned.update((d.id, d) for d in await Document.filter(id__in=list(owned)))
        return [self._owned[i] for i in document_ids if i in self._owned]


def _status_on(invoice: Invoice, paid: Decimal, credited: Decimal, disputes: list[Dispute],
               day: date) -> InvoiceStatus:
    """The invoice's status on `day`. A void counts on every day: the ledger does not
    date it (the row's last change may be the import of a whole history), and a void
    invoice was never owed. A dispute is dated by its Dispute rows, or, with none, is the
    source's word."""
    if invoice.status == InvoiceStatus.VOID:
        return InvoiceStatus.VOID
    if disputes:
        open_then = any(d.at.date() <= day and (d.resolved_at is None
                                                 or d.resolved_at.date() > day) for d in disputes)
        file_status = InvoiceStatus.DISPUTED if open_then else ""
    else:
        file_status = invoice.file_status
    return derive_status(invoice.total, paid, invoice.due_date, file_status, day, credited)


def _po_matches(written: str) -> Q:
    """"PO-7781" as stored, or its number alone ("PO 7781" read as "7781"), any case."""
    po = written.strip()
    return (Q(po_number__iexact=po) | Q(po_number__iendswith=f"-{po}")
            | Q(po_number__iendswith=f" {po}") | Q(po_number__iendswith=f"#{po}"))


def _amounts(found: QuerySet[Invoice], query: InvoiceQuery) -> QuerySet[Invoice]:
    if query.total is not None:
        found = found.filter(total=query.total)
    if query.min_total is not None:
        found = found.filter(total__gt=query.min_total)
    if query.max_total is not None:
        found = found.filter(total__lt=query.max_total)
    return found


async def sweep_overdue(today: date, now: datetime) -> int:
    """Unpaid invoices past their due date become overdue; returns how many changed.

    Each flip and its status event are written in one transaction, and only by the
    sweep whose conditional update changed the row, so two sweeps (two processes on
    PostgreSQL) never alert twice. Not scoped: this is the seller's own housekeeping.
    """
    changed = 0
    while batch := await _sweep_batch(today, now):
        changed += batch
    return changed


async def _sweep_batch(today: date, now: datetime, size: int = 500) -> int:
    unpaid = [InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID]
    async with in_transaction():
        due = await Invoice.filter(status__in=unpaid, due_date__lt=today).order_by(
            "id").limit(size).select_for_update(skip_locked=True)
        flipped: list[tuple[Invoice, InvoiceStatus]] = []
        for invoice in due:
            updated = await Invoice.filter(id=invoice.id, status=invoice.status).update(
                status=InvoiceStatus.OVERDUE, updated_at=now)
            if updated == 1:
                flipped.append((invoice, invoice.status))
                invoice.status = InvoiceStatus.OVERDUE
        await events.record(events.status_events(flipped, cause="sweep"), now)
    return len(flipped)
