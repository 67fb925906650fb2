"""Statements of account: what an account was invoiced and paid in a period, per currency.

As for invoices, building the statement (a frozen snapshot of plain values, read through
the account scope) is separate from rendering it (vault.statement_html, then a PdfRenderer
worker). The rendered PDF goes into the document store and a Statement row ties the
document to the account, which is what lets a signed link to it pass the scope check.

Per currency: opening balance = invoiced - paid - credited before the period; closing =
opening + invoiced - paid - credited in the period; credited = credit notes issued (lines
of their own, reducing the balance as payments do); credit = payments and credit notes
beyond an invoice's total, and credit notes on no invoice; aging as of the period's end
(or today, if the period has not ended), from payments and credit notes by then.
Void invoices are left out: they were never owed.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from vault.aging import BUCKETS, ZERO, Owed, age
from vault.amounts import standing
from vault.config import SellerConfig
from vault.documents import DocumentStore
from vault.invoices import AccountScope
from vault.models import CreditNote, Document, Invoice, InvoiceStatus, Payment, Statement
from vault.pdf import InvoiceSnapshot, Party, PdfRenderer, Renderer, babel_locale
from vault.statement_html import statement_html
from vault.words import N_


@dataclass(frozen=True)
class Entry:
    """One line of a statement: an invoice issued, a payment received or a credit note."""

    day: date
    kind: str  # "Invoice", "Payment" or "Credit note"
    reference: str  # the invoice number, the payment's reference, the credit note number
    detail: str  # "for INV-..." for payments and credit notes
    due: date | None  # for invoices
    charge: Decimal
    payment: Decimal
    balance: Decimal  # running balance after this line
    for_number: str = ""  # the invoice a payment or credit note is for


@dataclass(frozen=True)
class CurrencySection:
    currency: str
    opening: Decimal
    invoiced: Decimal
    paid: Decimal
    credit: Decimal  # paid beyond invoice totals, as of the period's end
    entries: tuple[Entry, ...]
    aging: tuple[Decimal, ...]  # one per vault.aging.BUCKETS
    credited: Decimal = ZERO  # by credit notes in the period

    @property
    def closing(self) -> Decimal:
        return self.opening + self.invoiced - self.paid - self.credited


@dataclass(frozen=True)
class StatementSnapshot:
    """Everything printed on a statement, as plain values that pickle into a worker."""

    seller: Party
    buyer: Party
    account_id: str
    start: date
    end: date
    as_of: date
    locale: str
    sections: tuple[CurrencySection, ...]
    also_english: bool = False  # [seller] documents_also_english
    # The words' language: the reader's as on file (vault.answer_language without the
    # request's own words) for a statement made on request; "": the locale's language.
    language: str = ""

    @property
    def label(self) -> str:
        return f"statement-{self.account_id}-{self.start.isoformat()}-{self.end.isoformat()}"


# A statement line's kind, in English; vault.statement_html prints it in the reader's.
ENTRY_KINDS = (N_("Invoice"), N_("Payment"), N_("Credit note"))


class HtmlRenderer(Protocol):
    async def render_html(self, html: str) -> bytes: ...


class DocumentRenderer(HtmlRenderer, Renderer, Protocol):
    """Statements and invoices (an invoice whose PDF a request needs before the render
    queue got to it, vault.render_queue.ensure_pdfs): PdfRenderer, LazyPdfRenderer."""


async def build_statement(
    scope: AccountScope, start: date, end: date, today: date, seller: SellerConfig,
    language: str = "",
) -> StatementSnapshot:
    """The account's statement for [start, end] as known today. Unlike an invoice (the
    document as issued, in the account's language), a statement is made for the contact
    who asks: in `language`, theirs as on file, with their locale's dates and amounts."""
    as_of = min(end, today)
    invoices = await scope.invoices().filter(issue_date__lte=end).exclude(
        status=InvoiceStatus.VOID).order_by("issue_date", "number")
    by_id = {i.id: i for i in invoices}
    payments = [p for p in await scope.payments_between(None, end) if p.invoice_id in by_id]
    payments.sort(key=lambda p: (p.paid_on, p.id))
    notes = [n for n in await scope.credit_notes_between(None, end)
             if n.invoice_id is None or n.invoice_id in by_id]
    currencies = sorted({i.currency for i in invoices} | {n.currency for n in notes})
    sections = [_section(c, invoices, payments, by_id, start, as_of, notes)
                for c in currencies]
    account = scope.account
    return StatementSnapshot(
        seller=Party(seller.name, seller.address, seller.tax_id),
        buyer=Party(account.name, account.address, account.tax_id),
        account_id=account.account_id, start=start, end=end, as_of=as_of,
        locale=babel_locale(scope.contact.locale or account.locale),
        sections=tuple(s for s in sections if s.entries or s.opening or s.closing),
        also_english=seller.documents_also_english, language=language,
    )


def _section(currency: str, invoices: list[Invoice], payments: list[Payment],
             by_id: dict[int, Invoice], start: date, as_of: date,
             notes: list[CreditNote]) -> CurrencySection:
    mine = [i for i in invoices if i.currency == currency]
    paid_to = [p for p in payments if by_id[p.invoice_id].currency == currency]
    credits = [n for n in notes if n.currency == currency]
    opening = (sum((i.total for i in mine if i.issue_date < start), ZERO)
               - sum((p.amount for p in paid_to if p.paid_on < start), ZERO)
               - sum((n.amount for n in credits if n.issue_date < start), ZERO))
    entries = _entries(mine, paid_to, by_id, start, opening, credits)
    credited = sum((n.amount for n in credits if n.issue_date >= start), ZERO)
    return CurrencySection(
        currency=currency, opening=opening,
        invoiced=sum((e.charge for e in entries), ZERO),
        paid=sum((e.payment for e in entries), ZERO) - credited,
        credit=_credit(mine, paid_to, credits),
        entries=tuple(entries),
        aging=_aging(_owed_at(mine, paid_to, as_of, credits), as_of),
        credited=credited,
    )


def _aging(owed: list[Owed], as_of: date) -> tuple[Decimal, ...]:
    rows = age(owed, as_of)  # one currency in, so at most one row out
    return rows[0].buckets if rows else (ZERO,) * len(BUCKETS)


def _entries(invoices: list[Invoice], payments: list[Payment], by_id: dict[int, Invoice],
             start: date, opening: Decimal, notes: Sequence[CreditNote] = ()) -> list[Entry]:
    """The period's lines by day; a credit note reduces the balance in the payments
    column, as a payment does."""
    Line = tuple[date, int, str, str, date | None, Decimal, Decimal, str]
    issued: list[Line] = [(i.issue_date, 0, i.number, "", i.due_date, i.total, ZERO, "")
                          for i in invoices if i.issue_date >= start]
    lines: list[Line] = issued + [
        (p.paid_on, 1, p.reference or "", f"for {by_id[p.invoice_id].number}", None,
         ZERO, p.amount, by_id[p.invoice_id].number)
        for p in payments if p.paid_on >= start
    ] + [
        (n.issue_date, 2, n.number, f"for {n.invoice.number}" if n.invoice else "on account",
         None, ZERO, n.amount, n.invoice.number if n.invoice else "")
        for n in notes if n.issue_date >= start
    ]
    balance, entries = opening, []
    for day, kind, reference, detail, due, charge, paid, for_number in sorted(
            lines, key=lambda x: x[:3]):
        balance += charge - paid
        entries.append(Entry(day, ENTRY_KINDS[kind], reference, detail, due, charge, paid,
                             balance, for_number))
    return entries


def _paid_by_invoice(payments: list[Payment], until: date | None = None) -> dict[int, Decimal]:
    paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for p in payments:
        if until is None or p.paid_on <= until:
            paid[p.invoice_id] += p.amount
    return paid


def _credited_by_invoice(notes: list[CreditNote], until: date | None = None
                        ) -> dict[int, Decimal]:
    credited: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for n in notes:
        if n.invoice_id is not None and (until is None or n.issue_date <= until):
            credited[n.invoice_id] += n.amount
    return credited


def _credit(invoices: list[Invoice], payments: list[Payment], notes: list[CreditNote]
            ) -> Decimal:
    paid, credited = _paid_by_invoice(payments), _credited_by_invoice(notes)
    unallocated = sum((n.amount for n in notes if n.invoice_id is None), ZERO)
    return unallocated + sum((max(paid[i.id] + credited[i.id] - i.total, ZERO)
                              for i in invoices), ZERO)


def _owed_at(invoices: list[Invoice], payments: list[Payment], as_of: date,
             notes: list[CreditNote]) -> list[Owed]:
    """Each invoice's unpaid amount on `as_of`, by the one rule (vault.amounts); zero
    amounts still seed the row."""
    paid, credited = _paid_by_invoice(payments, as_of), _credited_by_invoice(notes, as_of)
    owed = []
    for i in invoices:
        if i.issue_date <= as_of:
            now = standing(i.total, paid[i.id], i.due_date, i.status, as_of, credited[i.id])
            owed.append(Owed(i.currency, i.due_date, now.due, now.disputed, now.overdue))
    return owed


async def issue_statement(
    scope: AccountScope, snapshot: StatementSnapshot, renderer: HtmlRenderer,
    store: DocumentStore, now: datetime,
) -> Document:
    """Render, store and register the statement; the same statement is stored once."""
    pdf = await renderer.render_html(statement_html(snapshot))
    document = await store.put(pdf)
    await Statement.get_or_create(
        account_id=scope.account.id, document_id=document.id,
        defaults={"period_start": snapshot.start, "period_end": snapshot.end,
                  "as_of": snapshot.as_of, "contact_id": scope.contact.id, "created_at": now},
    )
    return document


class LazyPdfRenderer:
    """A one-worker PdfRenderer started on the first statement or invoice, not at start-up:
    most processes (the CLI, a service nobody asks for a statement) never need one."""

    def __init__(self) -> None:
        self._renderer: PdfRenderer | None = None

    async def render_html(self, html: str) -> bytes:
        return await self._started().render_html(html)

    async def render(self, snapshot: InvoiceSnapshot) -> bytes:
        """An invoice (the service issues those it gets through the API)."""
        return await self._started().render(snapshot)

    def _started(self) -> PdfRenderer:
        if self._renderer is None:
            self._renderer = PdfRenderer(max_workers=1)
        return self._renderer

    async def close(self) -> None:
        if self._renderer is not None:
            await asyncio.to_thread(self._renderer.close)
            self._renderer = None
