"""Storing invoice drafts: the one path by which invoices from any source enter the vault.

plan_invoices reads what exists (a few batched queries, no per-invoice query), decides per
draft (create, update or leave alone) and builds the rows, so that apply_invoice_plan,
called inside the transaction, only writes. Nothing here renders a PDF: callers do that after
the commit, with the changed ids (a PDF must never show a row that was rolled back).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from tortoise.transactions import in_transaction

from vault import events, metrics
from vault.ingest.drafts import InvoiceDraft
from vault.ingest.errors import ErrorLog, ImportFailed, ImportResult
from vault.ingest.upsert import BATCH, chunks
from vault.invoices import derive_status
from vault.models import Account, Invoice, InvoiceLine
from vault.vocabulary import EventKind, InvoiceStatus, Source

# Columns an update rewrites; amount_paid belongs to payments. The old PDF shows old
# content, so document_id is cleared too: the caller renders a new one after the commit.
UPDATED_FIELDS = (
    "issue_date", "due_date", "currency", "entity", "po_number", "subtotal", "tax_total",
    "total", "file_status", "status", "content_hash", "document_id", "updated_at", "source",
    "external_id",
)


class ConcurrentChange(RuntimeError):
    """Another writer stored one of our invoice numbers for another account meanwhile."""


@dataclass(frozen=True)
class StoredInvoice:
    """What planning needs to know of an invoice that exists."""

    id: int
    account_id: int
    content_hash: str
    amount_paid: Decimal
    amount_credited: Decimal  # by credit notes (vault.ingest.credit_notes)
    status: InvoiceStatus
    source: Source
    external_id: str | None

    def claimed_by(self, draft: InvoiceDraft) -> bool:
        """True if the draft names this invoice by the same source id (or gives none)."""
        return draft.external_id is None or (self.source, self.external_id) == (
            draft.source, draft.external_id)

    def same_as(self, draft: InvoiceDraft) -> bool:
        """Nothing to write: the same content, and no source id to take on."""
        return self.content_hash == draft.content_hash() and self.claimed_by(draft)


@dataclass(frozen=True)
class PlannedInvoice:
    """One invoice to write: its row and lines, built before the transaction starts."""

    draft: InvoiceDraft
    row: Invoice
    lines: list[InvoiceLine]  # invoice_id is set once the row has its id
    replaces: int | None = None  # the id of the stored invoice it updates
    old_status: InvoiceStatus | None = None  # the stored invoice's, for the status event


@dataclass
class InvoicePlan:
    writes: list[PlannedInvoice] = field(default_factory=list)
    unchanged: int = 0

    @property
    def created(self) -> int:
        return sum(1 for w in self.writes if w.replaces is None)

    @property
    def updated(self) -> int:
        return len(self.writes) - self.created


async def plan_invoices(
    drafts: list[InvoiceDraft], accounts: dict[str, int], log: ErrorLog, today: date,
    now: datetime,
) -> InvoicePlan:
    """Decide per draft: create, update (content hash changed) or leave alone. Unknown
    accounts and numbers of another account go to `log` (numbers are unique across the
    seller). `today` decides overdue."""
    existing = await _existing([d.number for d in drafts])
    numbered = await _numbers_of_external_ids(drafts)
    plan = InvoicePlan()
    for draft in drafts:
        line = draft.source_lines[0] if draft.source_lines else None
        account = accounts.get(draft.account)
        stored = existing.get(draft.number)
        known_as = numbered.get((draft.source, draft.external_id or ""))
        if account is None:
            log.add(line, f"account_id {draft.account!r} is not a known account")
        elif known_as is not None and known_as != draft.number:
            log.add(line, f"external_id {draft.external_id!r} is invoice {known_as!r} already "
                          "(an invoice keeps its number)")
        elif stored is not None and stored.account_id != account:
            log.add(
                line,
                f"invoice_number {draft.number!r} already belongs to another account "
                "(invoice numbers are unique across the seller)",
            )
        elif stored is not None and stored.external_id is not None and not stored.claimed_by(
                draft):
            log.add(line, f"invoice_number {draft.number!r} is stored with another external_id")
        elif stored is None:
            plan.writes.append(_planned(draft, account, today, now))
        elif not stored.same_as(draft):
            planned = _planned(draft, account, today, now, stored)
            plan.writes.append(replace(planned, replaces=stored.id, old_status=stored.status))
        else:
            plan.unchanged += 1
    return plan


async def _numbers_of_external_ids(drafts: list[InvoiceDraft]) -> dict[tuple[str, str], str]:
    """(source, external_id) -> the number of the invoice stored under it."""
    found: dict[tuple[str, str], str] = {}
    by_source: dict[Source, list[str]] = {}
    for draft in drafts:
        if draft.external_id is not None:
            by_source.setdefault(draft.source, []).append(draft.external_id)
    for source, ids in by_source.items():
        for batch in chunks(ids):
            query = Invoice.filter(source=source, external_id__in=list(batch))
            for external_id, number in await query.values_list("external_id", "number"):
                found[(source, str(external_id))] = str(number)
    return found


async def _existing(numbers: list[str]) -> dict[str, StoredInvoice]:
    found: dict[str, StoredInvoice] = {}
    for batch in chunks(numbers):
        rows = await Invoice.filter(number__in=list(batch)).values_list(
            "number", "id", "account_id", "content_hash", "amount_paid", "amount_credited",
            "status", "source", "external_id",
        )
        for number, pk, account, content_hash, paid, credited, status, source, external in rows:
            found[str(number)] = StoredInvoice(
                int(pk), int(account), str(content_hash), paid, credited, InvoiceStatus(status),
                Source(source), None if external is None else str(external),
            )
    return found


def _planned(
    draft: InvoiceDraft, account: int, today: date, now: datetime,
    stored: StoredInvoice | None = None,
) -> PlannedInvoice:
    """The row for a draft, with its totals and derived status (its stored payments and
    credit notes still count), and its lines. A draft without an external id (a CSV file)
    leaves the stored source and id as they are."""
    totals = draft.totals()
    paid = Decimal(0) if stored is None else stored.amount_paid
    credited = Decimal(0) if stored is None else stored.amount_credited
    source, external_id = draft.source, draft.external_id
    if external_id is None and stored is not None:
        source, external_id = stored.source, stored.external_id
    row = Invoice(
        account_id=account, number=draft.number, issue_date=draft.issue_date,
        due_date=draft.due_date, currency=draft.currency, entity=draft.entity,
        po_number=draft.po_number, subtotal=totals.subtotal, tax_total=totals.tax_total,
        total=totals.total, amount_paid=paid, amount_credited=credited,
        file_status=draft.file_status,
        status=derive_status(totals.total, paid, draft.due_date, draft.file_status, today,
                             credited),
        content_hash=draft.content_hash(), document_id=None, updated_at=now, source=source,
        external_id=external_id,
    )
    lines = [
        InvoiceLine(
            position=position, description=line.description, quantity=line.quantity,
            unit_price=line.unit_price, tax_rate=line.tax_rate, amount=line.amount,
        )
        for position, line in enumerate(draft.lines, start=1)
    ]
    return PlannedInvoice(draft, row, lines)


async def apply_invoice_plan(plan: InvoicePlan, now: datetime) -> list[int]:
    """Write the plan and its events (inside a transaction); returns the ids of invoices
    created or updated.

    Creates and updates are one INSERT ... ON CONFLICT (number) DO UPDATE per invoice,
    sent as one executemany: an updated invoice keeps its id, and so its payments.
    """
    if not plan.writes:
        return []
    await Invoice.bulk_create(
        [w.row for w in plan.writes],
        batch_size=BATCH, on_conflict=("number",), update_fields=UPDATED_FIELDS,
    )
    ids = await _ids({w.row.number: w.row.account_id for w in plan.writes})
    replaced = [w.replaces for w in plan.writes if w.replaces is not None]
    for batch in chunks(replaced):
        await InvoiceLine.filter(invoice_id__in=list(batch)).delete()
    for write in plan.writes:
        for line in write.lines:
            line.invoice_id = ids[write.row.number]
    await InvoiceLine.bulk_create([ln for w in plan.writes for ln in w.lines], batch_size=BATCH)
    await events.record(_events(plan, ids), now)
    return [ids[w.row.number] for w in plan.writes]


def _events(plan: InvoicePlan, ids: dict[str, int]) -> list[events.Event]:
    """A new invoice is issued; an updated one whose status moved (void, disputed,
    re-opened) changed status."""
    found: list[events.Event] = []
    for write in plan.writes:
        row, invoice_id = write.row, ids[write.row.number]
        if write.replaces is None:
            found.append(events.Event(EventKind.ISSUED, row.account_id, invoice_id, "import",
                                      new_status=InvoiceStatus(row.status),
                                      happened_on=row.issue_date))
        elif write.old_status != row.status:
            found.append(events.Event(EventKind.STATUS_CHANGED, row.account_id, invoice_id,
                                      "import", old_status=write.old_status,
                                      new_status=InvoiceStatus(row.status)))
    return found


async def _ids(accounts: dict[str, int]) -> dict[str, int]:
    """number -> id of the rows just written, checking each is in the planned account."""
    ids: dict[str, int] = {}
    for batch in chunks(list(accounts)):
        query = Invoice.filter(number__in=list(batch))
        for number, pk, account in await query.values_list("number", "id", "account_id"):
            if account != accounts[number]:
                raise ConcurrentChange(f"invoice {number} was stored for another account")
            ids[str(number)] = int(pk)
    return ids


async def upsert_invoices(
    drafts: list[InvoiceDraft],
    today: date,
    now: datetime,
    *,
    source: str = "invoices",
    on_issued: Callable[[list[int]], Awaitable[None]] | None = None,
) -> ImportResult:
    """Store invoices from any source (CSV, later REST or Stripe) in one transaction.

    Raises ImportFailed naming `source` if a draft cannot be stored; then nothing is.
    `on_issued` gets the created and changed ids after the commit (to render PDFs).
    """
    log = ErrorLog()
    accounts = dict(await Account.all().values_list("account_id", "id"))
    plan = await plan_invoices(drafts, accounts, log, today, now)
    if log:
        raise ImportFailed(source, log.report())
    async with in_transaction():
        changed = await apply_invoice_plan(plan, now)
    if on_issued is not None and changed:
        await on_issued(changed)
    metrics.rows_ingested("invoices", plan.created, plan.updated, plan.unchanged)
    return ImportResult("invoices", plan.created, plan.updated, plan.unchanged, changed)
