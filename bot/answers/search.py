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
from vault.formats import and_list, quoted
from vault.invoices import InvoiceQuery
from vault.models import Invoice


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
    """The listing's title in plain English, naming every filter that applies."""
    status = _status_words(filters)
    noun = f"{status} invoices".strip()
    head = f"Your last {filters.last} {noun}" if filters.last else noun[:1].upper() + noun[1:]
    parts = [head]
    if filters.period is not None:
        parts.append(f"in {ctx.fmt.period(filters.period.start, filters.period.end)}")
    if filters.due is not None:
        parts.append(_due_words(ctx, filters.due))
    if filters.entity:
        parts.append(f"for {and_list(entities or (filters.entity,))}")
    if filters.po_number:
        parts.append(f"with PO {filters.po_number}")
    parts += _amount_words(ctx, filters)
    return " ".join(parts)


def _due_words(ctx: Context, due: Due) -> str:
    """"due in December 2026", "due on 15.12.2026", "due by 14.12.2026", "by due date"."""
    fmt = ctx.fmt
    if due.start is not None and due.end is not None:
        if due.start == due.end:
            return f"due on {fmt.day(due.start)}"
        return f"due in {fmt.period(due.start, due.end)}"
    if due.end is not None:
        return f"due by {fmt.day(due.end)}"
    if due.start is not None:
        return f"due from {fmt.day(due.start)}"
    return "by due date"


def _status_words(filters: Filters) -> str:
    if filters.statuses == UNPAID:
        return "unpaid"
    if filters.statuses == OVERDUE:
        return "overdue"
    return "/".join(s.label for s in filters.statuses)


def _amount_words(ctx: Context, filters: Filters) -> list[str]:
    currency, fmt = filters.currency, ctx.fmt
    words = []
    if filters.amount is not None:
        words.append(f"of {fmt.amount(filters.amount, currency)}")
    if filters.min_amount is not None:
        words.append(f"over {fmt.amount(filters.min_amount, currency)}")
    if filters.max_amount is not None:
        words.append(f"under {fmt.amount(filters.max_amount, currency)}")
    if currency and not words:
        words.append(f"in {currency}")
    return words


async def nothing_found(ctx: Context, found: Search) -> Reply:
    """None match: say so, and point to the nearest invoice that would."""
    if found.entity_missed:
        return await _entity_missed(ctx, found)
    if found.filters.due is not None:
        return Reply(subject=f"{found.title}: no invoices", intro=f"{found.title}: no invoices.",
                     outro=await _next_due_hint(ctx, found))
    nearest = await _nearest(ctx, found)
    word = "nearest" if found.filters.period and nearest else "latest"
    return Reply(subject=f"{found.title}: no invoices", intro=f"{found.title}: no invoices.",
                 outro=latest_hint(nearest or await ctx.scope.latest(), ctx.fmt, word))


async def _next_due_hint(ctx: Context, found: Search) -> str:
    """After a due window with nothing in it: the next invoice that falls due after it."""
    after = found.query.due_end + timedelta(days=1) if found.query.due_end else None
    if after is not None:
        later = await ctx.scope.search(replace(found.query, due_start=after, due_end=None),
                                       limit=1)
        if later:
            return (f"The next one due is {later[0].number}, due on "
                    f"{ctx.fmt.day(later[0].due_date)}.")
    return "Nothing else is due either." if after is not None else ""


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
    ours = await ctx.scope.entity_names()
    hint = (f"The billing entities on your account are {and_list(ours)}." if ours
            else "Your invoices carry no billing entity.")
    return Reply(subject=f"No billing entity like {quoted(written)}",
                 intro=f"None of your account's billing entities matches {quoted(written)}.",
                 outro=hint)
