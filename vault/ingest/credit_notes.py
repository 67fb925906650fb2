"""Storing credit notes: the one path by which credit notes from any source (API, Stripe)
enter the vault, as invoice_store is for invoices.

A credit note is matched on a repeated call by its source's own id (external_id) when it
has one, else by its number; unchanged content writes nothing. One allocated to an invoice
re-derives that invoice's amount credited and status in the same transaction (with a
credit_note.issued event for a new one), so every answer's amount due agrees
(vault.amounts). Rendering its PDF is the caller's, after the commit.

Billing rules checked before anything is written: the invoice belongs to the same account
and has the same currency, and the credit notes of an invoice never add up to more than
its total (credit beyond that is an unallocated credit note: give no invoice_number).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from vault import events
from vault.ingest.drafts import LineDraft, Totals, compute_totals
from vault.ingest.errors import ErrorLog
from vault.ingest.payments import rederive_paid
from vault.models import CreditNote, CreditNoteLine, Invoice
from vault.vocabulary import EventKind, Source

_EVENT_KEY = "credit_note:"  # its credit_note.issued event's key, once per note


def credit_note_of(event_key: str | None) -> str | None:
    """The number of the credit note a credit_note.issued event (by its key) tells of."""
    if event_key is None or not event_key.startswith(_EVENT_KEY):
        return None
    return event_key.removeprefix(_EVENT_KEY)


@dataclass(frozen=True)
class CreditNoteDraft:
    """A credit note as a source states it. `line`: the item's index (or file line)."""

    line: int | None
    account: str  # external account_id
    number: str
    invoice_number: str | None  # None: an unallocated credit
    issue_date: date
    currency: str
    amount: Decimal | None  # the total credited; None: the lines' total
    reason: str = ""
    lines: tuple[LineDraft, ...] = ()
    source: Source = Source.API
    external_id: str | None = None

    def credited_lines(self) -> tuple[LineDraft, ...]:
        """The lines given, or one line of the amount (no tax: none was stated)."""
        if self.lines or self.amount is None:
            return self.lines
        return (LineDraft(self.reason or "Credit", Decimal(1), self.amount, Decimal(0)),)

    def totals(self) -> Totals:
        return compute_totals(self.credited_lines())

    def content_hash(self) -> str:
        header = [self.account, self.number, self.invoice_number or "",
                  self.issue_date.isoformat(), self.currency, self.reason]
        lines = [[ln.description, str(ln.quantity), str(ln.unit_price), str(ln.tax_rate)]
                 for ln in self.credited_lines()]
        payload = json.dumps([header, lines], separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class _Target:
    id: int
    account_id: int
    currency: str
    total: Decimal


@dataclass
class CreditNotePlan:
    """Per draft: the stored note it updates (None: new); drafts found unchanged."""

    writes: list[tuple[CreditNoteDraft, int, CreditNote | None, int | None]] = field(
        default_factory=list)  # (draft, account id, stored, invoice id)
    unchanged: list[str] = field(default_factory=list)

    @property
    def created(self) -> set[str]:
        return {d.number for d, _, stored, _ in self.writes if stored is None}

    @property
    def updated(self) -> set[str]:
        return {d.number for d, _, stored, _ in self.writes if stored is not None}


async def plan_credit_notes(drafts: list[CreditNoteDraft], accounts: dict[str, int],
                            log: ErrorLog) -> CreditNotePlan:
    """Check each draft against the ledger and decide: create, update or leave alone."""
    stored = {n.number: n for n in await CreditNote.filter(
        number__in=[d.number for d in drafts])}
    by_external = {(n.source, n.external_id): n for n in await CreditNote.filter(
        external_id__in=[d.external_id for d in drafts if d.external_id])}
    targets = await _targets([d.invoice_number for d in drafts if d.invoice_number])
    credited = await _credited([t.id for t in targets.values()])
    plan = CreditNotePlan()
    for draft in drafts:
        known = by_external.get((draft.source, draft.external_id)) if draft.external_id else None
        existing = stored.get(draft.number)
        if known is not None and known.number != draft.number:
            log.add(draft.line, f"external_id {draft.external_id!r} is credit note "
                                f"{known.number!r} already (a credit note keeps its number)")
            continue
        checked = _checked(draft, accounts, targets, existing, credited, log)
        if checked is None:
            continue
        account, invoice = checked
        if existing is not None and existing.content_hash == draft.content_hash() and (
                draft.external_id is None or existing.external_id == draft.external_id):
            plan.unchanged.append(draft.number)
        else:
            plan.writes.append((draft, account, existing, invoice))
            if invoice is not None:  # later drafts of the same call see this credit
                credited[invoice] += draft.totals().total - _own(existing, invoice)
    return plan


def _checked(draft: CreditNoteDraft, accounts: dict[str, int], targets: dict[str, _Target],
             existing: CreditNote | None, credited: dict[int, Decimal], log: ErrorLog
             ) -> tuple[int, int | None] | None:
    """(account id, invoice id) if the draft can be stored; else its problems are logged."""
    account = accounts.get(draft.account)
    total = draft.totals().total
    target = targets.get(draft.invoice_number or "")
    problem = None
    if account is None:
        problem = f"account_id {draft.account!r} is not a known account"
    elif existing is not None and existing.account_id != account:
        problem = (f"credit_note_number {draft.number!r} already belongs to another account "
                   "(credit note numbers are unique across the seller)")
    elif existing is not None and existing.external_id is not None and draft.external_id \
            is not None and existing.external_id != draft.external_id:
        problem = f"credit_note_number {draft.number!r} is stored with another external_id"
    elif draft.amount is None and not draft.lines:
        problem = "amount is required when no lines are given"
    elif draft.amount is not None and draft.lines and draft.amount != total:
        problem = f"amount {draft.amount} is not the lines' total with tax, {total}"
    elif total <= 0:
        problem = f"amount {total} must be greater than 0"
    elif draft.invoice_number and (target is None or target.account_id != account):
        problem = (f"invoice_number {draft.invoice_number!r} is not an invoice of account "
                   f"{draft.account!r}")
    elif target is not None and target.currency != draft.currency:
        problem = (f"currency {draft.currency!r} is not the currency of invoice "
                   f"{draft.invoice_number!r} ({target.currency})")
    elif target is not None and credited[target.id] - _own(existing, target.id) + total \
            > target.total:
        left = target.total - credited[target.id] + _own(existing, target.id)
        problem = (f"amount {total} is more than invoice {draft.invoice_number!r} has left "
                   f"to credit ({left}); credit the rest without an invoice_number")
    if problem is not None:
        log.add(draft.line, problem)
        return None
    return int(account or 0), None if target is None else target.id


def _own(existing: CreditNote | None, invoice_id: int) -> Decimal:
    """What the stored version of a note already credits this invoice."""
    if existing is None or existing.invoice_id != invoice_id:
        return Decimal(0)
    return existing.amount


async def _targets(numbers: list[str]) -> dict[str, _Target]:
    rows = await Invoice.filter(number__in=numbers).values_list(
        "number", "id", "account_id", "currency", "total")
    return {str(n): _Target(int(pk), int(acc), str(cur), total)
            for n, pk, acc, cur, total in rows}


async def _credited(invoice_ids: list[int]) -> dict[int, Decimal]:
    found: dict[int, Decimal] = defaultdict(Decimal)
    rows = await CreditNote.filter(invoice_id__in=invoice_ids).values_list("invoice_id", "amount")
    for invoice_id, amount in rows:
        found[int(invoice_id)] += amount
    return found


async def apply_credit_note_plan(plan: CreditNotePlan, today: date, now: datetime) -> list[int]:
    """Write the plan (inside a transaction): the notes, their lines, the credited
    invoices' amounts and statuses, and the events; returns the ids of notes written
    (their PDFs are to be rendered after the commit)."""
    written: list[int] = []
    touched: set[int] = set()
    issued: list[events.Event] = []
    for draft, account, stored, invoice in plan.writes:
        note = await _save(draft, account, stored, invoice, now)
        written.append(note.id)
        touched.update(i for i in (invoice, stored.invoice_id if stored else None)
                       if i is not None)
        if stored is None and invoice is not None:
            issued.append(events.Event(
                EventKind.CREDIT_NOTE_ISSUED, account, invoice, "credit_note",
                amount=note.amount, key=_EVENT_KEY + note.number,
                happened_on=note.issue_date))
    await events.record(issued, now)
    await rederive_paid(sorted(touched), today, now, cause="credit_note")
    return written


async def _save(draft: CreditNoteDraft, account: int, stored: CreditNote | None,
                invoice: int | None, now: datetime) -> CreditNote:
    totals = draft.totals()
    values: dict[str, Any] = {
        "account_id": account, "number": draft.number, "invoice_id": invoice,
        "issue_date": draft.issue_date, "currency": draft.currency,
        "subtotal": totals.subtotal, "tax_total": totals.tax_total, "amount": totals.total,
        "reason": draft.reason, "content_hash": draft.content_hash(), "document_id": None,
        "updated_at": now, "source": draft.source, "external_id": draft.external_id,
    }
    if stored is not None and draft.external_id is None:  # where it first came from stays
        values["source"], values["external_id"] = stored.source, stored.external_id
    if stored is None:
        note = await CreditNote.create(**values)
    else:
        note = stored
        note.update_from_dict(values)
        await note.save()
        await CreditNoteLine.filter(credit_note_id=note.id).delete()
    await CreditNoteLine.bulk_create([
        CreditNoteLine(credit_note_id=note.id, position=n, description=ln.description,
                       quantity=ln.quantity, unit_price=ln.unit_price, tax_rate=ln.tax_rate,
                       amount=ln.amount)
        for n, ln in enumerate(draft.credited_lines(), start=1)])
    return note
