"""Stored rows as the API answers them (the *Out models of vault.api.schemas).

The API acts for the seller, not for a contact: it reads the whole ledger (as the CSV import
and the operator's CLI do), so no AccountScope here.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from vault import amounts
from vault.api.schemas import (
    AccountOut,
    ContactOut,
    CreditNoteOut,
    InvoiceOut,
    LineOut,
    PaymentOut,
)
from vault.ingest.upsert import chunks
from vault.models import (
    Account,
    Contact,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    Payment,
)


def _text(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        account_id=account.account_id, name=account.name, timezone=account.timezone,
        locale=account.locale, tier=account.tier, tax_id=account.tax_id,
        address=account.address, slack_team_id=account.slack_team_id,
        step_up=account.step_up,
    )


async def accounts_out(keys: Sequence[str]) -> dict[str, AccountOut]:
    found: dict[str, AccountOut] = {}
    for batch in chunks(keys):
        for account in await Account.filter(account_id__in=list(batch)):
            found[account.account_id] = account_out(account)
    return found


async def contacts_out(emails: Sequence[str]) -> dict[str, ContactOut]:
    found: dict[str, ContactOut] = {}
    for batch in chunks(emails):
        for c in await Contact.filter(email__in=list(batch)).select_related("account"):
            found[c.email] = ContactOut(
                account_id=c.account.account_id, email=c.email, name=c.name, role=str(c.role),
                locale=c.locale, timezone=c.timezone, active=c.active,
            )
    return found


async def invoices_out(numbers: Sequence[str]) -> dict[str, InvoiceOut]:
    found: dict[str, InvoiceOut] = {}
    for batch in chunks(numbers):
        rows = await Invoice.filter(number__in=list(batch)).select_related("account")
        lines = await InvoiceLine.filter(invoice_id__in=[i.id for i in rows]).order_by(
            "invoice_id", "position")
        by_invoice: dict[int, list[LineOut]] = {}
        for line in lines:
            by_invoice.setdefault(line.invoice_id, []).append(_line_out(line))
        credits: dict[int, list[CreditNoteOut]] = {}
        for note in await _credit_notes(CreditNote.filter(invoice_id__in=[i.id for i in rows])):
            credits.setdefault(note[0], []).append(note[1])
        for i in rows:
            found[i.number] = invoice_out(i, by_invoice.get(i.id, []), credits.get(i.id, []))
    return found


def _line_out(line: InvoiceLine | CreditNoteLine) -> LineOut:
    return LineOut(description=line.description, quantity=_text(line.quantity),
                   unit_price=_text(line.unit_price), tax_rate=_text(line.tax_rate),
                   amount=_text(line.amount))


async def _credit_notes(query: Any) -> list[tuple[int, CreditNoteOut]]:
    """(invoice id or 0, the note) for the credit notes `query` finds, oldest first."""
    notes = await query.order_by("issue_date", "number").select_related("account", "invoice")
    lines: dict[int, list[LineOut]] = {}
    for line in await CreditNoteLine.filter(
            credit_note_id__in=[n.id for n in notes]).order_by("credit_note_id", "position"):
        lines.setdefault(line.credit_note_id, []).append(_line_out(line))
    return [(n.invoice_id or 0, CreditNoteOut(
        credit_note_number=n.number, account_id=n.account.account_id,
        invoice_number=n.invoice.number if n.invoice else None, source=str(n.source),
        external_id=n.external_id, issue_date=n.issue_date, currency=n.currency,
        subtotal=_text(n.subtotal), tax_total=_text(n.tax_total), amount=_text(n.amount),
        reason=n.reason, lines=lines.get(n.id, []))) for n in notes]


async def credit_notes_out(numbers: Sequence[str]) -> dict[str, CreditNoteOut]:
    found: dict[str, CreditNoteOut] = {}
    for batch in chunks(numbers):
        for _, note in await _credit_notes(CreditNote.filter(number__in=list(batch))):
            found[note.credit_note_number] = note
    return found


def invoice_out(invoice: Invoice, lines: list[LineOut],
                credit_notes: list[CreditNoteOut]) -> InvoiceOut:
    """`invoice` with its account fetched (select_related)."""
    return InvoiceOut(
        invoice_number=invoice.number, account_id=invoice.account.account_id,
        source=str(invoice.source), external_id=invoice.external_id,
        issue_date=invoice.issue_date, due_date=invoice.due_date, currency=invoice.currency,
        entity=invoice.entity, po_number=invoice.po_number, status=str(invoice.status),
        subtotal=_text(invoice.subtotal), tax_total=_text(invoice.tax_total),
        total=_text(invoice.total), amount_paid=_text(invoice.amount_paid),
        amount_credited=_text(invoice.amount_credited),
        amount_due=_text(amounts.due_of(invoice)), lines=lines, credit_notes=credit_notes,
    )


async def payments_out(keys: Sequence[str]) -> dict[str, PaymentOut]:
    """natural key -> the payment."""
    found: dict[str, PaymentOut] = {}
    for batch in chunks(keys):
        query = Payment.filter(natural_key__in=list(batch)).select_related("account", "invoice")
        for p in await query:
            found[p.natural_key] = PaymentOut(
                account_id=p.account.account_id, invoice_number=p.invoice.number,
                source=str(p.source), external_id=p.external_id, amount=_text(p.amount),
                paid_on=p.paid_on, reference=p.reference, method=p.method,
            )
    return found


def dump(model: Any) -> dict[str, Any]:
    """JSON-ready; `result` only where a POST set it."""
    data: dict[str, Any] = model.model_dump(mode="json", exclude_none=False)
    if data.get("result") is None:
        data.pop("result", None)
    return data
