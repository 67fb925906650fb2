"""One invoice in detail: lines, tax, payments and credit notes applied, amount due, status
history, and links to its PDF (as issued), to a receipt per payment (vault.receipts) and
to each credit note's PDF.

The number is resolved inside the contact's account (vault.numbers): one match is shown,
several are listed for the contact to choose, none gets "did you mean" from this
account's own numbers, and another account's invoice reads exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import replace

from bot.answers import Context
from bot.answers.listing import invoice_rows
from bot.intents import InvoiceRef, ShowInvoice
from bot.messages import Link, Reply
from bot.replies import ambiguous, not_found
from vault import amounts
from vault.history import status_history
from vault.models import CreditNote, Invoice
from vault.numbers import resolve
from vault.receipts import receipts


async def find_invoice(ctx: Context, ref: InvoiceRef) -> Invoice | Reply:
    """The invoice the contact means, or the reply saying why we cannot tell."""
    found = await resolve(ctx.scope, ref.text, ref.prefix, ref.digits)
    if found.invoice is not None:
        return found.invoice
    if found.candidates:
        return ambiguous(ref.text, found.candidates)
    return not_found(ref.text, found.near)


async def show_invoice(ctx: Context, command: ShowInvoice) -> Reply:
    invoice = await find_invoice(ctx, command.ref)
    if isinstance(invoice, Reply):
        return invoice
    (row,) = await invoice_rows(ctx, [invoice])
    credit_notes = await ctx.scope.credit_notes(invoice)
    notes = [*_facts(invoice), *await _lines(ctx, invoice), *_totals(ctx, invoice),
             *await _payments(ctx, invoice), *_credits(ctx, invoice, credit_notes),
             *await _history(ctx, invoice)]
    links = (*await _receipts(ctx, invoice), *await _credit_links(ctx, invoice, credit_notes))
    return Reply(subject=f"Invoice {invoice.number}", intro=f"Here is invoice {invoice.number}.",
                 rows=(row,), links=links, notes=tuple(notes),
                 links_expire=ctx.expiry() if row.link or links else "")


def _credits(ctx: Context, invoice: Invoice, credit_notes: list[CreditNote]) -> list[str]:
    return [f"Credit note {note.number} of {ctx.fmt.day(note.issue_date)}: "
            f"{ctx.fmt.money(note.amount, invoice.currency)}"
            + (f" ({note.reason})" if note.reason else "") for note in credit_notes]


async def _credit_links(ctx: Context, invoice: Invoice, credit_notes: list[CreditNote]
                        ) -> tuple[Link, ...]:
    """A link to each credit note's PDF (those rendered yet), through the account scope."""
    found = []
    for note in credit_notes:
        documents = await ctx.scope.documents([note.document_id] if note.document_id else [])
        if documents:
            found.append(await ctx.link(documents, f"Credit note {note.number} for invoice "
                                        f"{invoice.number} "
                                        f"({ctx.fmt.money(note.amount, invoice.currency)})"))
    return tuple(found)


async def _receipts(ctx: Context, invoice: Invoice) -> tuple[Link, ...]:
    """A link to the receipt of each payment, saying when it was paid and how much."""
    tools = ctx.tools
    found = await receipts(ctx.scope, invoice, tools.renderer, tools.store,
                           tools.config.seller, ctx.now)
    return tuple([
        await ctx.link([document], f"Receipt {invoice.number}, paid on "
                       f"{ctx.fmt.day(payment.paid_on)} "
                       f"({ctx.fmt.money(payment.amount, invoice.currency)})")
        for payment, document in found])


def _facts(invoice: Invoice) -> list[str]:
    facts = []
    if invoice.po_number:
        facts.append(f"PO number: {invoice.po_number}")
    if invoice.entity:
        facts.append(f"Billing entity: {invoice.entity}")
    return facts


async def _lines(ctx: Context, invoice: Invoice) -> list[str]:
    lines = await ctx.scope.lines(invoice)
    pdf = replace(ctx.fmt, currency=invoice.currency)  # quantities and prices as printed
    return [
        f"Line {n}: {line.description}, {pdf.quantity(line.quantity)} × "
        f"{pdf.price(line.unit_price)} = {pdf.money(line.amount)} (tax {pdf.rate(line.tax_rate)})"
        for n, line in enumerate(lines, 1)
    ]


def _totals(ctx: Context, invoice: Invoice) -> list[str]:
    money, currency = ctx.fmt.money, invoice.currency
    return [
        f"Subtotal {money(invoice.subtotal, currency)}, tax {money(invoice.tax_total, currency)}, "
        f"total {money(invoice.total, currency)}",
        f"Amount due: {money(amounts.due_of(invoice), currency)}",
    ]


async def _payments(ctx: Context, invoice: Invoice) -> list[str]:
    notes = []
    for payment in await ctx.scope.payments(invoice):
        how = ", ".join(x for x in (payment.reference, payment.method) if x)
        notes.append(f"Payment applied {ctx.fmt.day(payment.paid_on)}: "
                     f"{ctx.fmt.money(payment.amount, invoice.currency)}"
                     + (f" ({how})" if how else ""))
    return notes or ["No payments applied yet."]


async def _history(ctx: Context, invoice: Invoice) -> list[str]:
    events = await status_history(ctx.scope, invoice, ctx.today)
    return [f"Status {ctx.fmt.day(e.day)}: {e.status.label}"
            + (f" ({e.note})" if e.note else "") for e in events]
