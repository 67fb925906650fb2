"""From the contact's Filters to a search of their account's invoices, and its title.

The billing entity is matched fuzzily against this account's own entity names; the rest
maps one to one onto vault.invoices.InvoiceQuery.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from bot.answers import Context
from bot.intents import OVERDUE, UNPAID, Due, Filters
from bot.messages import Reply
from bot.replies import latest_hint
from notifier.words import status_label
from vault.formats import quoted
from vault.invoices import InvoiceQuery
from vault.models import Invoice, InvoiceStatus


@dataclass(frozen=True)
class Search:
    filters: Filters
    query: InvoiceQuery
    title: str  # "Unpaid invoices in March 2026 for ACME Freight GmbH"
    entity_missed: bool = False  # an entity was written and none of ours matches

    @property
    def narrowed(self) -> bool:
        return self.filters != Filters()


async def search(ctx: Context, filters: Filters) -> Search:
    entities = None
    if filters.entity:
        entities = await ctx.scope.match_entities(filters.entity)
    period, due = filters.period, filters.due
    query = InvoiceQuery(
        start=period.start if period else None, end=period.end if period else None,
        statuses=filters.statuses, po_number=filters.po_number, min_total=filters.min_amount,
        max_total=filters.max_amount, total=filters.amount, currency=filters.currency,
        entities=entities, due_start=due.start if due else None,
        due_end=due.end if due else None, by_due=due is not None,
    )
    title = describe(ctx, filters, entities)
    return Search(filters, query, title, entity_missed=entities == ())


async def matching(ctx: Context, found: Search) -> list[Invoice]:
    """The matching invoices, newest first ("last N": only the N newest)."""
    return await ctx.scope.search(found.query, limit=found.filters.last)


def describe(ctx: Context, filters: Filters, entities: tuple[str, ...] | None) -> str:
    """The listing's title, naming every filter that applies: a noun phrase ("Unpaid
    invoices", "Your last 3 invoices"), then one phrase per filter ("in March 2026",
    "for ACME Freight GmbH", "over €1,000.00"), each translated whole. All seven
    languages put such phrases after the noun, so the order holds in each."""
    _, fmt = ctx.fmt.words.gettext, ctx.fmt
    parts = [_head(ctx, filters)]
    if filters.period is not None:
        parts.append(_("in {period}").format(
            period=fmt.period(filters.period.start, filters.period.end)))
    if filters.due is not None:
        parts.append(_due_words(ctx, filters.due))
    if filters.entity:
        parts.append(_("for {entities}").format(
            entities=fmt.and_list(entities or (filters.entity,))))
    if filters.po_number:
        parts.append(_("with PO {po}").format(po=filters.po_number))
    parts += _amount_words(ctx, filters)
    return " ".join(parts)


def _head(ctx: Context, filters: Filters) -> str:
    """"Unpaid invoices", "Paid invoices", "Your last 3 overdue invoices"."""
    words = ctx.fmt.words
    status = _status_words(ctx, filters)
    if filters.last:
        if not status:
            return words.ngettext("Your last {count} invoice", "Your last {count} invoices",
                                  filters.last).format(count=filters.last)
        return words.ngettext(
            "Your last {count} {statuses} invoice", "Your last {count} {statuses} invoices",
            filters.last).format(count=filters.last, statuses=status)
    if filters.statuses in (UNPAID, OVERDUE) or len(filters.statuses) == 1:
        return _one_kind(ctx, filters)
    if not status:
        return words.gettext("Invoices")
    head = words.gettext("{statuses} invoices").format(statuses=status)
    return head[:1].upper() + head[1:]


def _one_kind(ctx: Context, filters: Filters) -> str:
    """The title of one kind of invoice, translated whole (adjectives agree with their
    noun in most of our languages)."""
    _ = ctx.fmt.words.gettext
    if filters.statuses == UNPAID:
        return _("Unpaid invoices")
    if filters.statuses == OVERDUE:
        return _("Overdue invoices")
    match filters.statuses[0]:
        case InvoiceStatus.PAID:
            return _("Paid invoices")
        case InvoiceStatus.OPEN:
            return _("Open invoices")
        case InvoiceStatus.PARTIALLY_PAID:
            return _("Partially paid invoices")
        case InvoiceStatus.DISPUTED:
            return _("Disputed invoices")
        case InvoiceStatus.VOID:
            return _("Void invoices")
    return _("Overdue invoices")


def _due_words(ctx: Context, due: Due) -> str:
    """"due in December 2026", "due on 15.12.2026", "due by 14.12.2026", "by due date"."""
    fmt, _ = ctx.fmt, ctx.fmt.words.gettext
    if due.start is not None and due.end is not None:
        if due.start == due.end:
            return _("due on {day}").format(day=fmt.day(due.start))
        return _("due in {period}").format(period=fmt.period(due.start, due.end))
    if due.end is not None:
        return _("due by {day}").format(day=fmt.day(due.end))
    if due.start is not None:
        return _("due from {day}").format(day=fmt.day(due.start))
    return _("by due date")


def _status_words(ctx: Context, filters: Filters) -> str:
    words = ctx.fmt.words
    if filters.statuses == UNPAID:
        return words.pgettext("invoices", "unpaid")
    if filters.statuses == OVERDUE:
        return status_label(InvoiceStatus.OVERDUE, words)
    return "/".join(status_label(s, words) for s in filters.statuses)


def _amount_words(ctx: Context, filters: Filters) -> list[str]:
    currency, fmt, _ = filters.currency, ctx.fmt, ctx.fmt.words.gettext
    words = []
    if filters.amount is not None:
        words.append(_("of {amount}").format(amount=fmt.amount(filters.amount, currency)))
    if filters.min_amount is not None:
        words.append(_("over {amount}").format(amount=fmt.amount(filters.min_amount, currency)))
    if filters.max_amount is not None:
        words.append(_("under {amount}").format(
            amount=fmt.amount(filters.max_amount, currency)))
    if currency and not words:
        words.append(_("in {currency}").format(currency=currency))
    return words


async def nothing_found(ctx: Context, found: Search) -> Reply:
    """None match: say so, and point to the nearest invoice that would."""
    if found.entity_missed:
        return await _entity_missed(ctx, found)
    _, title = ctx.fmt.words.gettext, found.title
    subject = _("{title}: no invoices").format(title=title)
    intro = _("{title}: no invoices.").format(title=title)
    if found.filters.due is not None:
        return Reply(subject=subject, intro=intro, outro=await _next_due_hint(ctx, found))
    nearest = await _nearest(ctx, found)
    return Reply(subject=subject, intro=intro,
                 outro=latest_hint(nearest or await ctx.scope.latest(), ctx.fmt,
                                   nearest=bool(found.filters.period and nearest)))


async def _next_due_hint(ctx: Context, found: Search) -> str:
    """After a due window with nothing in it: the next invoice that falls due after it."""
    _ = ctx.fmt.words.gettext
    after = found.query.due_end + timedelta(days=1) if found.query.due_end else None
    if after is not None:
        later = await ctx.scope.search(replace(found.query, due_start=after, due_end=None),
                                       limit=1)
        if later:
            return _("The next one due is {number}, due on {day}.").format(
                number=later[0].number, day=ctx.fmt.day(later[0].due_date))
    return _("Nothing else is due either.") if after is not None else ""


async def _nearest(ctx: Context, found: Search) -> Invoice | None:
    """Of the invoices matching everything but the period, the one issued closest to it."""
    anywhen = replace(found.query, start=None, end=None)
    period = found.filters.period
    if period is None:
        return _first(await ctx.scope.search(anywhen, limit=1))
    day = timedelta(days=1)
    before = _first(await ctx.scope.search(replace(anywhen, end=period.start - day), limit=1))
    after = _first(await ctx.scope.search(replace(anywhen, start=period.end + day), limit=1,
                                          oldest_first=True))
    if before is None or after is None:
        return before or after
    gap_before = (period.start - before.issue_date).days
    return before if gap_before <= (after.issue_date - period.end).days else after


def _first(invoices: list[Invoice]) -> Invoice | None:
    return invoices[0] if invoices else None


async def _entity_missed(ctx: Context, found: Search) -> Reply:
    return await unknown_entity(ctx, found.filters.entity or "")


async def unknown_entity(ctx: Context, written: str) -> Reply:
    """The entity written matches none of ours: say which ones the account has."""
    _ = ctx.fmt.words.gettext
    ours = await ctx.scope.entity_names()
    hint = (_("The billing entities on your account are {entities}.").format(
        entities=ctx.fmt.and_list(ours)) if ours
        else _("Your invoices carry no billing entity."))
    return Reply(subject=_("No billing entity like {words}").format(words=quoted(written)),
                 intro=_("None of your account's billing entities matches {words}.").format(
                     words=quoted(written)),
                 outro=hint)
