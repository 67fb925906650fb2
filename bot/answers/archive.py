"""Archive: all matching invoices' PDFs behind ONE signed link to a ZIP.

The ZIP is built while it downloads (vault.web), in constant memory, with an index.csv.
"""

from __future__ import annotations

from dataclasses import replace

from bot.answers import Context
from bot.answers.listing import invoice_count, totals, zip_link
from bot.answers.search import matching, nothing_found, search
from bot.intents import Archive, Filters
from bot.messages import Reply


async def archive(ctx: Context, command: Archive) -> Reply:
    found = await search(ctx, command.filters)
    _ = ctx.fmt.words.gettext
    if not found.narrowed:
        found = replace(found, title=_("All your invoices"))
    invoices = [] if found.entity_missed else await matching(ctx, found)
    if not invoices:
        return await nothing_found(ctx, found)
    credits = await ctx.scope.credit_notes_between(found.query.start, found.query.end)
    if found.filters != Filters(period=found.filters.period):  # narrowed by more than a
        # period: only the credit notes of the invoices found
        credits = [n for n in credits if n.invoice_id in {i.id for i in invoices}]
    link = await zip_link(ctx, invoices, found.title, credits)
    count, title = invoice_count(ctx, len(invoices)), found.title
    if link is None:
        return Reply(subject=_("{title}: no PDFs yet").format(title=title),
                     intro=_("{title}: {count}, but their PDFs are not ready yet.").format(
                         title=title, count=count),
                     outro=_("Please ask again in a few minutes."))
    with_pdf = sum(1 for i in invoices if i.document_id is not None)
    notes = [_("Total: {total}").format(total=ctx.fmt.totals(totals(invoices))),
             _("The ZIP holds one PDF per invoice and index.csv listing them.")]
    if credits:
        notes.append(ctx.fmt.words.ngettext(
            "It also holds {count} credit note issued then: {numbers}.",
            "It also holds {count} credit notes issued then: {numbers}.", len(credits),
        ).format(count=len(credits), numbers=", ".join(n.number for n in credits)))
    if with_pdf < len(invoices):
        missing = len(invoices) - with_pdf
        notes.append(ctx.fmt.words.ngettext(
            "{count} of them has no PDF yet and is not included.",
            "{count} of them have no PDF yet and are not included.", missing,
        ).format(count=missing))
    return Reply(subject=_("{title} as a ZIP: {count}").format(title=title, count=count),
                 intro=_("{title}: {count} in one ZIP file.").format(title=title, count=count),
                 links=(link,), links_expire=ctx.expiry(), notes=tuple(notes))
