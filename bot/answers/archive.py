"""Archive: all matching invoices' PDFs behind ONE signed link to a ZIP.

The ZIP is built while it downloads (vault.web), in constant memory, with an index.csv.
"""

from __future__ import annotations

from dataclasses import replace

from bot.answers import Context
from bot.answers.listing import totals, zip_link
from bot.answers.search import matching, nothing_found, search
from bot.intents import Archive, Filters
from bot.messages import Reply
from vault.formats import plural


async def archive(ctx: Context, command: Archive) -> Reply:
    found = await search(ctx, command.filters)
    if not found.narrowed:
        found = replace(found, title="All your invoices")
    invoices = [] if found.entity_missed else await matching(ctx, found)
    if not invoices:
        return await nothing_found(ctx, found)
    credits = await ctx.scope.credit_notes_between(found.query.start, found.query.end)
    if found.filters != Filters(period=found.filters.period):  # narrowed by more than a
        # period: only the credit notes of the invoices found
        credits = [n for n in credits if n.invoice_id in {i.id for i in invoices}]
    link = await zip_link(ctx, invoices, found.title, credits)
    count = plural(len(invoices), "invoice")
    if link is None:
        return Reply(subject=f"{found.title}: no PDFs yet",
                     intro=f"{found.title}: {count}, but their PDFs are not ready yet.",
                     outro="Please ask again in a few minutes.")
    with_pdf = sum(1 for i in invoices if i.document_id is not None)
    notes = [f"Total: {ctx.fmt.totals(totals(invoices))}",
             "The ZIP holds one PDF per invoice and index.csv listing them."]
    if credits:
        notes.append(f"It also holds {plural(len(credits), 'credit note')} issued then: "
                     + ", ".join(n.number for n in credits) + ".")
    if with_pdf < len(invoices):
        notes.append(f"{len(invoices) - with_pdf} of them have no PDF yet and are not included.")
    return Reply(subject=f"{found.title} as a ZIP: {count}",
                 intro=f"{found.title}: {count} in one ZIP file.",
                 links=(link,), links_expire=ctx.expiry(), notes=tuple(notes))
