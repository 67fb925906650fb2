"""Listing invoices: every combination of filters, at most MAX_ROWS rows per reply.

Over MAX_ROWS matches, the reply summarises (count, totals per currency), lists the most
recent MAX_ROWS and adds one ZIP link to all of them. No match: it says so and points to
the nearest invoice.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from tortoise.transactions import in_transaction

from bot.answers import MAX_ROWS, Context
from bot.answers.search import Search, matching, nothing_found, search
from bot.intents import ListInvoices
from bot.messages import Link, ListingRow, Reply
from bot.replies import invoice_row
from vault import amounts
from vault.formats import plural
from vault.models import CreditNote, Invoice


async def list_invoices(ctx: Context, command: ListInvoices) -> Reply:
    found = await search(ctx, command.filters)
    if not found.narrowed:
        return await _latest(ctx)
    invoices = [] if found.entity_missed else await matching(ctx, found)
    if not invoices:
        return await nothing_found(ctx, found)
    if len(invoices) > MAX_ROWS:
        return await _summary(ctx, found, invoices)
    rows = await invoice_rows(ctx, invoices)
    count = plural(len(rows), "invoice")
    return Reply(subject=f"{found.title}: {count}", intro=f"{found.title}: {count}.",
                 rows=tuple(rows), links_expire=ctx.expiry())


async def _latest(ctx: Context) -> Reply:
    invoices = await ctx.scope.recent(MAX_ROWS)
    if not invoices:
        return Reply(subject="Your invoices: none yet",
                     intro="There are no invoices on your account yet.")
    rows = await invoice_rows(ctx, invoices)
    count = plural(len(rows), "invoice")
    return Reply(subject=f"Your latest invoices: {count}",
                 intro=f"Your latest invoices: {count}.", rows=tuple(rows),
                 links_expire=ctx.expiry())


async def _summary(ctx: Context, found: Search, invoices: list[Invoice]) -> Reply:
    rows = await invoice_rows(ctx, invoices[:MAX_ROWS])
    archive = await zip_link(ctx, invoices, found.title)
    count = plural(len(invoices), "invoice")
    which = "due soonest" if found.filters.due else "most recent"
    shown = f"The {MAX_ROWS} {which} are listed below"
    whole = "; all of them are in one ZIP file." if archive else "."
    return Reply(
        subject=f"{found.title}: {count}",
        intro=f"{found.title}: {count}, totalling {ctx.fmt.totals(totals(invoices))}"
              f"{_still_due(ctx, invoices)}. {shown}{whole}",
        rows=tuple(rows), links=(archive,) if archive else (), links_expire=ctx.expiry(),
    )


def _still_due(ctx: Context, invoices: list[Invoice]) -> str:
    """", of which €X still due" when any of them is owed (vault.amounts)."""
    due: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        if (owed := amounts.due_of(invoice)) > 0:
            due[invoice.currency] += owed
    return f", of which {ctx.fmt.totals(dict(due))} still due" if due else ""


def totals(invoices: list[Invoice]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        sums[invoice.currency] += invoice.total
    return dict(sums)


async def invoice_rows(ctx: Context, invoices: list[Invoice]) -> list[ListingRow]:
    """One row per invoice with a link to its PDF (if it has one yet)."""
    paid = await ctx.scope.last_paid(invoices)
    # One transaction for all the reply's grants: one commit (one fsync), not one each.
    async with in_transaction():
        return [invoice_row(i, await _pdf_link(ctx, i), ctx.fmt, paid.get(i.id))
                for i in invoices]


async def _pdf_link(ctx: Context, invoice: Invoice) -> Link | None:
    if invoice.document_id is None:
        return None
    documents = await ctx.scope.documents([invoice.document_id])
    return await ctx.link(documents, invoice.number) if documents else None


async def zip_link(ctx: Context, invoices: list[Invoice], title: str,
                   credit_notes: Sequence[CreditNote] = ()) -> Link | None:
    """One link to a ZIP of these invoices' PDFs (and credit notes'); None if none has a
    PDF yet."""
    ids = [i.document_id for i in invoices] + [n.document_id for n in credit_notes]
    documents = await ctx.scope.documents([i for i in ids if i is not None])
    if not documents:
        return None
    return await ctx.link(documents, zip_name(title))


def zip_name(title: str) -> str:
    """"Invoices in 2025" -> "invoices-in-2025.zip" (the label ending .zip asks for a ZIP)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:150] or "invoices"
    return f"{slug}.zip"
