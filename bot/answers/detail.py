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
from notifier.words import history_note, status_label
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
        return ambiguous(ref.text, found.candidates, ctx.fmt)
    return not_found(ref.text, found.near, ctx.fmt)


async def show_invoice(ctx: Context, command: ShowInvoice) -> Reply:
    invoice = await find_invoice(ctx, command.ref)
    if isinstance(invoice, Reply):
        return invoice
    (row,) = await invoice_rows(ctx, [invoice])
    credit_notes = await ctx.scope.credit_notes(invoice)
    notes = [*_facts(ctx, invoice), *await _lines(ctx, invoice), *_totals(ctx, invoice),
             *await _payments(ctx, invoice), *_credits(ctx, invoice, credit_notes),
             *await _history(ctx, invoice)]
    links = (*await _receipts(ctx, invoice), *await _credit_links(ctx, invoice, credit_notes))
    _ = ctx.fmt.words.gettext
    return Reply(subject=_("Invoice {number}").format(number=invoice.number),
                 intro=_("Here is invoice {number}.").format(number=invoice.number),
                 rows=(row,), links=links, notes=tuple(notes),
                 links_expire=ctx.expiry() if row.link or links else "")


def _credits(ctx: Context, invoice: Invoice, credit_notes: list[CreditNote]) -> list[str]:
    _ = ctx.fmt.words.gettext
    return [(_("Credit note {number} of {day}: {amount} ({reason})") if note.reason
             else _("Credit note {number} of {day}: {amount}")).format(
                number=note.number, day=ctx.fmt.day(note.issue_date),
                amount=ctx.fmt.money(note.amount, invoice.currency), reason=note.reason)
            for note in credit_notes]


async def _credit_links(ctx: Context, invoice: Invoice, credit_notes: list[CreditNote]
                        ) -> tuple[Link, ...]:
    """A link to each credit note's PDF (those rendered yet), through the account scope."""
    found = []
    for note in credit_notes:
        documents = await ctx.scope.documents([note.document_id] if note.document_id else [])
        if documents:
            label = ctx.fmt.words.gettext("Credit note {number} for invoice {invoice} "
                                          "({amount})").format(
                number=note.number, invoice=invoice.number,
                amount=ctx.fmt.money(note.amount, invoice.currency))
            found.append(await ctx.link(documents, label))
    return tuple(found)


async def _receipts(ctx: Context, invoice: Invoice) -> tuple[Link, ...]:
    """A link to the receipt of each payment, saying when it was paid and how much."""
    tools = ctx.tools
    found = await receipts(ctx.scope, invoice, tools.renderer, tools.store,
                           tools.config.seller, ctx.now)
    label = ctx.fmt.words.gettext("Receipt {number}, paid on {day} ({amount})")
    return tuple(await ctx.links([
        ([document], label.format(number=invoice.number, day=ctx.fmt.day(payment.paid_on),
                                  amount=ctx.fmt.money(payment.amount, invoice.currency)))
        for payment, document in found])) if found else ()


def _facts(ctx: Context, invoice: Invoice) -> list[str]:
    _ = ctx.fmt.words.gettext
    facts = []
    if invoice.po_number:
        facts.append(_("PO number: {po}").format(po=invoice.po_number))
    if invoice.entity:
        facts.append(_("Billing entity: {entity}").format(entity=invoice.entity))
    return facts


async def _lines(ctx: Context, invoice: Invoice) -> list[str]:
    lines = await ctx.scope.lines(invoice)
    pdf = replace(ctx.fmt, currency=invoice.currency)  # quantities and prices as printed
    text = ctx.fmt.words.gettext("Line {n}: {description}, {quantity} × {price} = {amount} "
                                 "(tax {rate})")
    return [
        text.format(n=n, description=line.description, quantity=pdf.quantity(line.quantity),
                    price=pdf.price(line.unit_price), amount=pdf.money(line.amount),
                    rate=pdf.rate(line.tax_rate))
        for n, line in enumerate(lines, 1)
    ]


def _totals(ctx: Context, invoice: Invoice) -> list[str]:
    money, currency, _ = ctx.fmt.money, invoice.currency, ctx.fmt.words.gettext
    return [
        _("Subtotal {subtotal}, tax {tax}, total {total}").format(
            subtotal=money(invoice.subtotal, currency), tax=money(invoice.tax_total, currency),
            total=money(invoice.total, currency)),
        _("Amount due: {amount}").format(amount=money(amounts.due_of(invoice), currency)),
    ]


async def _payments(ctx: Context, invoice: Invoice) -> list[str]:
    _ = ctx.fmt.words.gettext
    notes = []
    for payment in await ctx.scope.payments(invoice):
        how = ", ".join(x for x in (payment.reference, payment.method) if x)
        text = (_("Payment applied {day}: {amount} ({how})") if how
                else _("Payment applied {day}: {amount}"))
        notes.append(text.format(day=ctx.fmt.day(payment.paid_on), how=how,
                                 amount=ctx.fmt.money(payment.amount, invoice.currency)))
    return notes or [_("No payments applied yet.")]


async def _history(ctx: Context, invoice: Invoice) -> list[str]:
    _ = ctx.fmt.words.gettext
    events = await status_history(ctx.scope, invoice, ctx.today)
    return [(_("Status {day}: {status} ({note})") if e.note else _("Status {day}: {status}"))
            .format(day=ctx.fmt.day(e.day), status=status_label(e.status, ctx.fmt.words),
                    note=history_note(e.note, ctx.fmt.words)) for e in events]
