"""Balance and aging: what the account owes, per currency, never added across currencies."""

from __future__ import annotations

from decimal import Decimal

from bot.answers import Context
from bot.answers.listing import invoice_count
from bot.answers.search import unknown_entity
from bot.intents import Aging, Balance
from bot.messages import Reply
from vault.aging import BalanceRow, Owed, age, balances, owed_now


async def _entities(ctx: Context, written: str | None) -> tuple[str, ...] | None:
    return await ctx.scope.match_entities(written) if written else None


def _for(ctx: Context, entities: tuple[str, ...] | None, mine: str, theirs: str,
         **values: str) -> str:
    """One of two whole sentences (translated by the caller): about the whole account
    (`mine`), or about some of its billing entities (`theirs`, with {entities})."""
    if entities:
        return theirs.format(entities=ctx.fmt.and_list(entities), **values)
    return mine.format(**values)


def _nothing(ctx: Context, entities: tuple[str, ...] | None, day: str) -> str:
    _ = ctx.fmt.words.gettext
    if entities:
        return _("Nothing is outstanding on your account for {entities} on {day}.").format(
            entities=ctx.fmt.and_list(entities), day=day)
    return _("Nothing is outstanding on your account on {day}.").format(day=day)


async def balance(ctx: Context, command: Balance) -> Reply:
    entities = await _entities(ctx, command.entity)
    if entities == ():
        return await unknown_entity(ctx, command.entity or "")
    rows = balances(await owed_now(ctx.scope, ctx.today, entities))
    day, _ = ctx.fmt.day(ctx.today), ctx.fmt.words.gettext
    if not rows:
        subject = (_("Your balance for {entities}: nothing outstanding") if entities
                   else _("Your balance: nothing outstanding"))
        return Reply(subject=subject.format(entities=ctx.fmt.and_list(entities or ())),
                     intro=_nothing(ctx, entities, day))
    outstanding = ctx.fmt.totals({r.currency: r.outstanding for r in rows})
    overdue = ctx.fmt.totals({r.currency: r.overdue for r in rows})
    disputed = {r.currency: r.disputed for r in rows if r.disputed}
    subject = (_("Your balance for {entities}: {outstanding} outstanding") if entities
               else _("Your balance: {outstanding} outstanding"))
    values = {"day": day, "outstanding": outstanding, "overdue": overdue,
              "disputed": ctx.fmt.totals(disputed)}
    if disputed:
        intro = _for(ctx, entities,
                     _("Your balance on {day}: {outstanding} outstanding, of which {overdue} "
                       "overdue and {disputed} in dispute."),
                     _("Your balance for {entities} on {day}: {outstanding} outstanding, of "
                       "which {overdue} overdue and {disputed} in dispute."), **values)
    else:
        intro = _for(ctx, entities,
                     _("Your balance on {day}: {outstanding} outstanding, of which {overdue} "
                       "overdue."),
                     _("Your balance for {entities} on {day}: {outstanding} outstanding, of "
                       "which {overdue} overdue."), **values)
    return Reply(
        subject=subject.format(entities=ctx.fmt.and_list(entities or ()), outstanding=outstanding),
        intro=intro, notes=tuple(_balance_note(ctx, r) for r in rows),
        outro=(_('Write "unpaid", "overdue" or "disputed invoices" to list these invoices.')
               if disputed else _('Write "unpaid" or "overdue" to list these invoices.')),
    )


def _balance_note(ctx: Context, row: BalanceRow) -> str:
    """Facts about one currency, one clause each, joined by semicolons."""
    money, c, _ = ctx.fmt.money, row.currency, ctx.fmt.words.gettext
    clauses = [_("{currency}: {amount} outstanding on {count}").format(
        currency=c, amount=money(row.outstanding, c), count=invoice_count(ctx, row.invoices))]
    if row.overdue_invoices and row.oldest_overdue:
        clauses.append(_("{amount} overdue on {count} (the oldest was due {day})").format(
            amount=money(row.overdue, c), count=invoice_count(ctx, row.overdue_invoices),
            day=ctx.fmt.day(row.oldest_overdue)))
    else:
        clauses.append(_("{amount} overdue").format(amount=money(row.overdue, c)))
    if row.disputed_invoices:  # disputed: owed, never counted as overdue (vault.amounts)
        clauses.append(_("{amount} in dispute on {count}").format(
            amount=money(row.disputed, c), count=invoice_count(ctx, row.disputed_invoices)))
    return "; ".join(clauses)


def _disputed(owed: list[Owed]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for item in owed:
        if item.disputed:
            sums[item.currency] = sums.get(item.currency, Decimal(0)) + item.amount
    return dict(sorted(sums.items()))


def _buckets(ctx: Context) -> tuple[str, ...]:
    """vault.aging.BUCKETS' names, then the total, in the reader's language."""
    _ = ctx.fmt.words.gettext
    return (_("Current"), _("1-30 days"), _("31-60 days"), _("61-90 days"), _("Over 90 days"),
            _("Total"))


async def aging(ctx: Context, command: Aging) -> Reply:
    entities = await _entities(ctx, command.entity)
    if entities == ():
        return await unknown_entity(ctx, command.entity or "")
    owed = await owed_now(ctx.scope, ctx.today, entities)
    rows = age(owed, ctx.today)
    day, _ = ctx.fmt.day(ctx.today), ctx.fmt.words.gettext
    if not rows:
        return Reply(subject=_for(ctx, entities, _("Aging: nothing outstanding"),
                                  _("Aging for {entities}: nothing outstanding")),
                     intro=_nothing(ctx, entities, day))
    notes = [
        f"{r.currency}: " + " · ".join(
            f"{name} {ctx.fmt.money(amount, r.currency)}"
            for name, amount in zip(_buckets(ctx), (*r.buckets, r.total), strict=True))
        for r in rows
    ]
    notes += [_("{currency}: of which {amount} in dispute (aged like the rest)").format(
        currency=c, amount=ctx.fmt.money(amount, c)) for c, amount in _disputed(owed).items()]
    return Reply(
        subject=_for(ctx, entities, _("Aging of your open invoices on {day}"),
                     _("Aging of your open invoices for {entities} on {day}"), day=day),
        intro=_for(ctx, entities, _("Aging of your open invoices on {day}, by days past due:"),
                   _("Aging of your open invoices for {entities} on {day}, by days past "
                     "due:"), day=day),
        notes=tuple(notes))
