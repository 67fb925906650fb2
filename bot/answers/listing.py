"""Listing invoices: every combination of filters, at most MAX_ROWS rows per reply.

Over MAX_ROWS matches, the reply summarises (count, totals per currency), lists the most
recent MAX_ROWS and adds one ZIP link to all of them. No match: it says so and points to
the nearest invoice.
"""

from __future__ import annotations

import re
import unicodedata
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
    count = invoice_count(ctx, len(rows))
    _ = ctx.fmt.words.gettext
    return Reply(subject=_("{title}: {count}").format(title=found.title, count=count),
                 intro=_("{title}: {count}.").format(title=found.title, count=count),
                 rows=tuple(rows), links_expire=ctx.expiry())


def invoice_count(ctx: Context, count: int) -> str:
    """"3 invoices", in the contact's language and its plural rules."""
    return ctx.fmt.words.ngettext("{count} invoice", "{count} invoices", count
                                  ).format(count=count)


async def _latest(ctx: Context) -> Reply:
    _ = ctx.fmt.words.gettext
    invoices = await ctx.scope.recent(MAX_ROWS)
    if not invoices:
        return Reply(subject=_("Your invoices: none yet"),
                     intro=_("There are no invoices on your account yet."))
    rows = await invoice_rows(ctx, invoices)
    count = invoice_count(ctx, len(rows))
    return Reply(subject=_("Your latest invoices: {count}").format(count=count),
                 intro=_("Your latest invoices: {count}.").format(count=count),
                 rows=tuple(rows), links_expire=ctx.expiry())


async def _summary(ctx: Context, found: Search, invoices: list[Invoice]) -> Reply:
    _ = ctx.fmt.words.gettext
    rows = await invoice_rows(ctx, invoices[:MAX_ROWS])
    archive = await zip_link(ctx, invoices, found.title)
    count = invoice_count(ctx, len(invoices))
    total, still_due = ctx.fmt.totals(totals(invoices)), _still_due(ctx, invoices)
    head = (_("{title}: {count}, totalling {total}, of which {still_due} still due.").format(
        title=found.title, count=count, total=total, still_due=still_due) if still_due else
        _("{title}: {count}, totalling {total}.").format(title=found.title, count=count,
                                                         total=total))
    shown = _shown(ctx, bool(found.filters.due), archive is not None)
    return Reply(
        subject=_("{title}: {count}").format(title=found.title, count=count),
        intro=f"{head} {shown}",
        rows=tuple(rows), links=(archive,) if archive else (), links_expire=ctx.expiry(),
    )


def _shown(ctx: Context, by_due: bool, zipped: bool) -> str:
    _, n = ctx.fmt.words.gettext, MAX_ROWS
    if by_due:
        return (_("The {n} due soonest are listed below; all of them are in one ZIP file.")
                if zipped else _("The {n} due soonest are listed below.")).format(n=n)
    return (_("The {n} most recent are listed below; all of them are in one ZIP file.")
            if zipped else _("The {n} most recent are listed below.")).format(n=n)


def _still_due(ctx: Context, invoices: list[Invoice]) -> str:
    """What of them is still owed ("€X"), "" when nothing is (vault.amounts)."""
    due: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        if (owed := amounts.due_of(invoice)) > 0:
            due[invoice.currency] += owed
    return ctx.fmt.totals(dict(due)) if due else ""


def totals(invoices: list[Invoice]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        sums[invoice.currency] += invoice.total
    return dict(sums)


async def invoice_rows(ctx: Context, invoices: list[Invoice]) -> list[ListingRow]:
    """One row per invoice with a link to its PDF (rendered first if it is pending). All
    the rows' documents are read, and their links granted, together: a few statements per
    reply, not a few per row (a 91-row listing made ~1,100)."""
    paid = await ctx.scope.last_paid(invoices)
    await ctx.tools.ensure_pdfs(invoices)  # before the grants' transaction: no lock held
    ids = [i.document_id for i in invoices if i.document_id is not None]
    documents = {d.id: d for d in await ctx.scope.documents(ids)} if ids else {}
    linked = [i for i in invoices if i.document_id in documents]
    # One transaction for all the reply's grants: one commit (one fsync), not one each.
    async with in_transaction():
        made = await ctx.links([([documents[i.document_id]], i.number)  # type: ignore[index]
                                for i in linked]) if linked else []
    link_of = {i.id: link for i, link in zip(linked, made, strict=True)}
    return [invoice_row(i, link_of.get(i.id), ctx.fmt, paid.get(i.id)) for i in invoices]


async def zip_link(ctx: Context, invoices: list[Invoice], title: str,
                   credit_notes: Sequence[CreditNote] = ()) -> Link | None:
    """One link to a ZIP of these invoices' PDFs (and credit notes', each rendered first
    if it is pending); None if none has a PDF."""
    await ctx.tools.ensure_pdfs(invoices)
    ids = [i.document_id for i in invoices] + [n.document_id for n in credit_notes]
    documents = await ctx.scope.documents([i for i in ids if i is not None])
    if not documents:
        return None
    return await ctx.link(documents, zip_name(title))


def zip_name(title: str) -> str:
    """"Invoices in 2025" -> "invoices-in-2025.zip" (the label ending .zip asks for a ZIP);
    accents go, letters stay ("Rechnungen März" -> "rechnungen-marz")."""
    plain = unicodedata.normalize("NFKD", title.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:150] or "invoices"
    return f"{slug}.zip"
