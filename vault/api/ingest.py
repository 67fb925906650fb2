"""Validated API objects -> the CSV import's planners and writers (vault.ingest).

One call, one object or a batch, is one transaction: all of it is stored or none. What
the writer refuses (an unknown account_id, a number of another account, ...) is reported
like a pydantic error, with a JSON Pointer to the item's field: the writer's messages begin
with the field they are about, which names the pointer's last step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from tortoise.transactions import in_transaction

from vault import audit
from vault.api.schemas import AccountIn, ContactIn, CreditNoteIn, InvoiceIn, PaymentIn
from vault.api.views import (
    accounts_out,
    contacts_out,
    credit_notes_out,
    dump,
    invoices_out,
    payments_out,
)
from vault.ingest.accounts import (
    account_ids,
    drop_chat_links_of_inactive,
    plan_accounts,
    plan_contacts,
)
from vault.ingest.credit_notes import (
    CreditNoteDraft,
    apply_credit_note_plan,
    plan_credit_notes,
)
from vault.ingest.drafts import InvoiceDraft, LineDraft
from vault.ingest.errors import ErrorLog
from vault.ingest.fields import MAX_AMOUNT
from vault.ingest.invoice_store import apply_invoice_plan, plan_invoices
from vault.ingest.payments import PaymentRow, apply_payment_plan, plan_payments
from vault.models import Account, Contact
from vault.vocabulary import Source

OnIssued = Callable[[list[int]], Awaitable[None]]


@dataclass(frozen=True)
class FieldProblem:
    pointer: str
    message: str


class Invalid(Exception):
    """The call was refused and nothing was stored."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass
class Outcome:
    """Each item's stored object (with its result), in the order given."""

    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return any(item.get("result") == "created" for item in self.items)


@dataclass(frozen=True)
class Context:
    today: date
    now: datetime
    on_issued: OnIssued | None
    key_name: str  # the API key's, for the audit trail
    source: Source = Source.API  # what the invoices and payments stored say they came from
    on_credited: OnIssued | None = None  # renders the PDFs of credit notes stored


def pointer(batch: bool, index: int | None, field_name: str = "") -> str:
    steps = (["items", str(index)] if batch and index is not None else []) + (
        [field_name] if field_name else [])
    return "".join("/" + s.replace("~", "~0").replace("/", "~1") for s in steps)


def problems_of(log: ErrorLog, batch: bool, known: Sequence[str]) -> list[FieldProblem]:
    """The writer's row errors (line = the item's index) as pointers to the field named first."""
    found = []
    for error in log.errors:
        first = error.message.split(" ", 1)[0]
        found.append(FieldProblem(pointer(batch, error.line, first if first in known else ""),
                                  error.message))
    if log.more:  # the log keeps the first problems only: say how many more there were
        found.append(FieldProblem("", f"and {log.more} more problems"))
    return found


async def ingest(kind: str, items: list[BaseModel], batch: bool, ctx: Context) -> Outcome:
    """Store the items of `kind`; raises Invalid (nothing stored)."""
    log = ErrorLog()
    model = _MODELS[kind]
    planned = await _PLANNERS[kind](items, log, ctx)
    if planned is None or log:
        raise Invalid(problems_of(log, batch, list(model.model_fields)))
    async with in_transaction():
        changed = await planned.write()
        await audit.record("vault.api.ingest", kind=kind, key=ctx.key_name, items=len(items),
                           results=planned.counts())
    if changed and ctx.on_issued is not None and kind == "invoices":
        await ctx.on_issued(changed)
    if changed and ctx.on_credited is not None and kind == "credit-notes":
        await ctx.on_credited(changed)
    stored = await planned.read()
    return Outcome([{**dump(stored[key]), "result": planned.results[key]}
                    for key in planned.keys])


@dataclass
class Planned:
    """What one call will write: per item its key and result, and how to write and read."""

    keys: list[str]
    results: dict[str, str]
    write: Callable[[], Awaitable[list[int]]]
    read: Callable[[], Awaitable[dict[str, Any]]]

    def counts(self) -> dict[str, int]:
        values = list(self.results.values())
        return {r: values.count(r) for r in ("created", "updated", "unchanged")}


def _results(keys: list[str], created: set[str], updated: set[str]) -> dict[str, str]:
    return {k: "created" if k in created else "updated" if k in updated else "unchanged"
            for k in keys}


def _no_repeats(keys: list[str | None], log: ErrorLog, name: str) -> None:
    """A batch names each object once: which of two would win is anyone's guess."""
    first: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key is None:
            continue
        if key in first:
            log.add(index, f"{name} {key!r} was already given in item {first[key]}")
        first.setdefault(key, index)


async def _accounts(items: list[Any], log: ErrorLog, ctx: Context) -> Planned:
    accounts: list[AccountIn] = items
    keys = [a.account_id for a in accounts]
    _no_repeats(list(keys), log, "account_id")
    found = {a.account_id: a.model_dump(exclude_none=True) for a in accounts}
    plan = await plan_accounts(found)

    async def write() -> list[int]:
        await plan.write(Account)
        return []

    return Planned(keys, _results(keys, {a.account_id for a in plan.creates},
                                  {a.account_id for a in plan.updates}),
                   write, lambda: accounts_out(keys))


async def _contacts(items: list[Any], log: ErrorLog, ctx: Context) -> Planned:
    contacts: list[ContactIn] = items
    keys = [c.email for c in contacts]
    _no_repeats(list(keys), log, "email")
    accounts = await account_ids()
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, contact in enumerate(contacts):
        if contact.account_id not in accounts:
            log.add(index, f"account_id {contact.account_id!r} is not a known account")
            continue
        values = contact.model_dump(exclude_none=True)
        found[contact.email] = (index, values | {"account_id": accounts[contact.account_id]})
    plan = await plan_contacts(found, accounts, log)

    async def write() -> list[int]:
        await plan.write(Contact)
        await drop_chat_links_of_inactive()
        return []

    return Planned(keys, _results(keys, {c.email for c in plan.creates},
                                  {c.email for c in plan.updates}),
                   write, lambda: contacts_out(keys))


def _draft(index: int, invoice: InvoiceIn, log: ErrorLog, source: Source) -> InvoiceDraft | None:
    if invoice.due_date < invoice.issue_date:
        log.add(index, f"due_date {invoice.due_date} is before issue_date {invoice.issue_date}")
        return None
    lines = _lines(index, invoice.lines, log)
    if lines is None:
        return None
    return InvoiceDraft(
        account=invoice.account_id, number=invoice.invoice_number,
        issue_date=invoice.issue_date, due_date=invoice.due_date, currency=invoice.currency,
        lines=lines, entity=invoice.entity, po_number=invoice.po_number,
        file_status=invoice.status, source_lines=(index,), source=source,
        external_id=invoice.external_id,
    )


async def _invoices(items: list[Any], log: ErrorLog, ctx: Context) -> Planned:
    invoices: list[InvoiceIn] = items
    keys = [i.invoice_number for i in invoices]
    _no_repeats(list(keys), log, "invoice_number")
    _no_repeats([i.external_id for i in invoices], log, "external_id")
    drafts = [d for n, i in enumerate(invoices) if (d := _draft(n, i, log, ctx.source)) is not None]
    plan = await plan_invoices(drafts, await account_ids(), log, ctx.today, ctx.now)
    created = {w.row.number for w in plan.writes if w.replaces is None}
    updated = {w.row.number for w in plan.writes if w.replaces is not None}

    async def write() -> list[int]:
        return await apply_invoice_plan(plan, ctx.now)

    return Planned(keys, _results(keys, created, updated), write, lambda: invoices_out(keys))


async def _payments(items: list[Any], log: ErrorLog, ctx: Context) -> Planned:
    payments = [
        PaymentRow(line=n, account=p.account_id, invoice_number=p.invoice_number,
                   amount=p.amount, paid_on=p.paid_on, reference=p.reference, method=p.method,
                   source=ctx.source, external_id=p.external_id)
        for n, p in enumerate(items) if isinstance(p, PaymentIn)
    ]
    for row in payments:
        if row.amount <= 0:
            log.add(row.line, f"amount {str(row.amount)!r} must be greater than 0")
    keys = [p.natural_key for p in payments]
    _no_repeats([p.external_id for p in payments], log, "external_id")
    _no_repeats([p.natural_key if p.external_id is None else None for p in payments], log,
                "reference")
    plan = await plan_payments(payments, await account_ids(), log)
    creates, updates = plan.payments.creates, plan.payments.updates

    async def write() -> list[int]:
        return await apply_payment_plan(plan, ctx.today, ctx.now)

    return Planned(keys, _results(keys, {p.natural_key for p in creates},
                                  {p.natural_key for p in updates}),
                   write, lambda: payments_out(keys))


def _lines(index: int, lines: list[Any], log: ErrorLog) -> tuple[LineDraft, ...] | None:
    found = tuple(LineDraft(ln.description, ln.quantity, ln.unit_price, ln.tax_rate)
                  for ln in lines)
    if any(abs(line.amount) >= MAX_AMOUNT for line in found):
        log.add(index, "lines: a quantity × unit_price is too large")
        return None
    return found


async def _credit_notes(items: list[Any], log: ErrorLog, ctx: Context) -> Planned:
    notes: list[CreditNoteIn] = items
    keys = [n.credit_note_number for n in notes]
    _no_repeats(list(keys), log, "credit_note_number")
    _no_repeats([n.external_id for n in notes], log, "external_id")
    drafts = [CreditNoteDraft(
        line=index, account=n.account_id, number=n.credit_note_number,
        invoice_number=n.invoice_number, issue_date=n.issue_date, currency=n.currency,
        amount=n.amount, reason=n.reason, lines=lines, source=ctx.source,
        external_id=n.external_id,
    ) for index, n in enumerate(notes) if (lines := _lines(index, n.lines, log)) is not None]
    plan = await plan_credit_notes(drafts, await account_ids(), log)

    async def write() -> list[int]:
        return await apply_credit_note_plan(plan, ctx.today, ctx.now)

    return Planned(keys, _results(keys, plan.created, plan.updated), write,
                   lambda: credit_notes_out(keys))


_MODELS: dict[str, type[BaseModel]] = {
    "accounts": AccountIn, "contacts": ContactIn, "invoices": InvoiceIn, "payments": PaymentIn,
    "credit-notes": CreditNoteIn,
}
_PLANNERS: dict[str, Callable[[list[Any], ErrorLog, Context], Awaitable[Planned]]] = {
    "accounts": _accounts, "contacts": _contacts, "invoices": _invoices, "payments": _payments,
    "credit-notes": _credit_notes,
}
KINDS = tuple(_MODELS)
MODELS = _MODELS
