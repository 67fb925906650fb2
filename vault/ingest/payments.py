"""payments files: money received against invoices; each invoice's paid amount and status
are re-derived from all of its payments (and credit notes) after the file is written.

A payment is matched on re-import by its natural key: the source's own id (external_id,
from the API) when there is one, else the invoice number with the reference when there is
one, else with the date and amount. (So without either a corrected amount is a new payment:
give references when payments can be corrected.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from vault import events
from vault.ingest import fields as f
from vault.ingest.errors import ErrorLog
from vault.ingest.table import Row
from vault.ingest.upsert import BATCH, Upserts, chunks
from vault.invoices import derive_status
from vault.models import CreditNote, Invoice, Payment
from vault.vocabulary import EventKind, InvoiceStatus, Source


def natural_key(
    invoice_number: str, paid_on: date, amount: Decimal, reference: str,
    external: tuple[Source, str] | None = None,
) -> str:
    if external is not None:
        return f"{external[0]}:{external[1]}"
    if reference:
        return f"{invoice_number}|ref:{reference}"
    return f"{invoice_number}|{paid_on.isoformat()}|{amount}"


@dataclass(frozen=True)
class PaymentRow:
    line: int
    account: str  # external account_id
    invoice_number: str
    amount: Decimal
    paid_on: date
    reference: str = ""
    method: str = ""
    source: Source = Source.CSV
    external_id: str | None = None

    @property
    def natural_key(self) -> str:
        external = None if self.external_id is None else (self.source, self.external_id)
        return natural_key(self.invoice_number, self.paid_on, self.amount, self.reference,
                           external)


def parse_payments(rows: Iterable[Row], log: ErrorLog) -> list[PaymentRow]:
    """The file's payments without errors; a repeated natural key is an error."""
    found: dict[str, PaymentRow] = {}
    for row in rows:
        cells = f.CellReader(row, log)
        payment = PaymentRow(
            line=row.line,
            account=cells.take("account_id", f.identifier, ""),
            invoice_number=cells.take("invoice_number", f.identifier, ""),
            amount=cells.take("amount", f.money, Decimal(0)),
            paid_on=cells.take("paid_on", f.iso_date, date.min),
            reference=cells.take("reference", partial(f.text, max_length=120), ""),
            method=cells.take("method", partial(f.text, max_length=64), ""),
        )
        if not cells.failed and payment.amount <= 0:
            cells.failed = True
            log.add(row.line, f"amount {row.get('amount')!r} must be greater than 0")
        earlier = found.get(payment.natural_key)
        if earlier is not None and not cells.failed:
            log.add(row.line, f"the same payment as line {earlier.line} (give a reference)")
        elif not cells.failed:
            found[payment.natural_key] = payment
    return list(found.values())


@dataclass
class PaymentPlan:
    payments: Upserts[Payment] = field(default_factory=Upserts)


async def plan_payments(
    payments: list[PaymentRow], accounts: dict[str, int], log: ErrorLog
) -> PaymentPlan:
    """Match each payment to its invoice (which must belong to the row's account)."""
    invoices = await _invoice_ids([p.invoice_number for p in payments])
    existing = await _existing([p.natural_key for p in payments])
    plan = PaymentPlan()
    for payment in payments:
        account = accounts.get(payment.account)
        invoice = invoices.get(payment.invoice_number)
        if account is None:
            log.add(payment.line, f"account_id {payment.account!r} is not a known account")
        elif invoice is None or invoice[1] != account:
            log.add(
                payment.line,
                f"invoice_number {payment.invoice_number!r} is not an invoice of account "
                f"{payment.account!r}",
            )
        else:
            stored = existing.get(payment.natural_key)
            values = _values(payment, account, invoice[0])
            if stored is not None and payment.external_id is None:
                del values["source"], values["external_id"]  # where it first came from stays
            plan.payments.add(Payment, stored, values)
    return plan


def _values(payment: PaymentRow, account: int, invoice: int) -> dict[str, Any]:
    return {
        "natural_key": payment.natural_key, "account_id": account, "invoice_id": invoice,
        "amount": payment.amount, "paid_on": payment.paid_on, "reference": payment.reference,
        "method": payment.method, "source": payment.source, "external_id": payment.external_id,
    }


async def _invoice_ids(numbers: list[str]) -> dict[str, tuple[int, int]]:
    """invoice number -> (invoice id, account id)."""
    found: dict[str, tuple[int, int]] = {}
    for batch in chunks(sorted(set(numbers))):
        query = Invoice.filter(number__in=list(batch))
        rows = await query.values_list("number", "id", "account_id")
        found.update({str(n): (int(pk), int(acc)) for n, pk, acc in rows})
    return found


async def _existing(keys: list[str]) -> dict[str, Payment]:
    found: dict[str, Payment] = {}
    for batch in chunks(keys):
        found.update({p.natural_key: p for p in await Payment.filter(natural_key__in=list(batch))})
    return found


async def apply_payment_plan(plan: PaymentPlan, today: date, now: datetime) -> list[int]:
    """Write the payments, then re-derive the touched invoices; returns those that changed.

    Inside the import's transaction: each new payment and each status it moved becomes an
    event (vault.events) in the same commit.
    """
    await plan.payments.write(Payment)
    await events.record([
        events.Event(EventKind.PAYMENT_RECEIVED, p.account_id, p.invoice_id, "payments",
                     amount=p.amount, key=f"payment:{p.natural_key}", happened_on=p.paid_on)
        for p in plan.payments.creates
    ], now)
    touched = {p.invoice_id for p in plan.payments.creates + plan.payments.updates}
    return await rederive_paid(sorted(touched), today, now)


async def rederive_paid(invoice_ids: list[int], today: date, now: datetime,
                        cause: str = "payments") -> list[int]:
    """Set amount_paid (the sum of all payments), amount_credited (of all credit notes)
    and status, recording status events (call inside a transaction); returns the ids that
    changed."""
    paid: dict[int, Decimal] = defaultdict(Decimal)
    credited: dict[int, Decimal] = defaultdict(Decimal)
    last_paid: dict[int, date] = {}  # when the payments that move a status happened
    changed: list[Invoice] = []
    moved: list[tuple[Invoice, InvoiceStatus]] = []
    for batch in chunks(invoice_ids):
        rows = await Payment.filter(invoice_id__in=list(batch)).values_list(
            "invoice_id", "amount", "paid_on")
        for invoice_id, amount, paid_on in rows:
            paid[int(invoice_id)] += Decimal(amount)
            last_paid[int(invoice_id)] = max(paid_on, last_paid.get(int(invoice_id), paid_on))
        for invoice_id, amount in await CreditNote.filter(
                invoice_id__in=list(batch)).values_list("invoice_id", "amount"):
            credited[int(invoice_id)] += Decimal(amount)
        for invoice in await Invoice.filter(id__in=list(batch)):
            now_paid, now_credited = paid[invoice.id], credited[invoice.id]
            status = derive_status(invoice.total, now_paid, invoice.due_date,
                                   invoice.file_status, today, now_credited)
            if (invoice.amount_paid, invoice.amount_credited, invoice.status) != (
                    now_paid, now_credited, status):
                moved.append((invoice, invoice.status))
                invoice.amount_paid, invoice.amount_credited = now_paid, now_credited
                invoice.status, invoice.updated_at = status, now
                changed.append(invoice)
    if changed:
        await Invoice.bulk_update(
            changed, ("amount_paid", "amount_credited", "status", "updated_at"),
            batch_size=BATCH)
    await events.record(events.status_events(moved, cause=cause, days=last_paid), now)
    return [i.id for i in changed]
