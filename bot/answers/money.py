"""Balance and aging: what the account owes, per currency, never added across currencies."""

from __future__ import annotations

from decimal import Decimal

from bot.answers import Context
from bot.answers.search import unknown_entity
from bot.intents import Aging, Balance
from bot.messages import Reply
from vault.aging import BUCKETS, BalanceRow, Owed, age, balances, owed_now
from vault.formats import and_list, plural


async def _entities(ctx: Context, written: str | None) -> tuple[str, ...] | None:
    return await ctx.scope.match_entities(written) if written else None


def _whose(entities: tuple[str, ...] | None) -> str:
    return f" for {and_list(entities)}" if entities else ""


async def balance(ctx: Context, command: Balance) -> Reply:
    entities = await _entities(ctx, command.entity)
    if entities == ():
        return await unknown_entity(ctx, command.entity or "")
    rows = balances(await owed_now(ctx.scope, ctx.today, entities))
    whose, day = _whose(entities), ctx.fmt.day(ctx.today)
    if not rows:
        return Reply(subject=f"Your balance{whose}: nothing outstanding",
                     intro=f"Nothing is outstanding on your account{whose} on {day}.")
    outstanding = ctx.fmt.totals({r.currency: r.outstanding for r in rows})
    overdue = ctx.fmt.totals({r.currency: r.overdue for r in rows})
    disputed = {r.currency: r.disputed for r in rows if r.disputed}
    in_dispute = f" and {ctx.fmt.totals(disputed)} in dispute" if disputed else ""
    return Reply(
        subject=f"Your balance{whose}: {outstanding} outstanding",
        intro=f"Your balance{whose} on {day}: {outstanding} outstanding, "
              f"of which {overdue} overdue{in_dispute}.",
        notes=tuple(_balance_note(ctx, r) for r in rows),
        outro=('Write "unpaid", "overdue" or "disputed invoices" to list these invoices.'
               if disputed else 'Write "unpaid" or "overdue" to list these invoices.'),
    )


def _balance_note(ctx: Context, row: BalanceRow) -> str:
    money, c = ctx.fmt.money, row.currency
    note = (f"{c}: {money(row.outstanding, c)} outstanding on {plural(row.invoices, 'invoice')}"
            f"; {money(row.overdue, c)} overdue")
    if row.overdue_invoices and row.oldest_overdue:
        note += (f" on {plural(row.overdue_invoices, 'invoice')}"
                 f" (the oldest was due {ctx.fmt.day(row.oldest_overdue)})")
    if row.disputed_invoices:  # disputed: owed, never counted as overdue (vault.amounts)
        note += (f"; {money(row.disputed, c)} in dispute on "
                 f"{plural(row.disputed_invoices, 'invoice')}")
    return note


def _disputed(owed: list[Owed]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for item in owed:
        if item.disputed:
            sums[item.currency] = sums.get(item.currency, Decimal(0)) + item.amount
    return dict(sorted(sums.items()))


async def aging(ctx: Context, command: Aging) -> Reply:
    entities = await _entities(ctx, command.entity)
    if entities == ():
        return await unknown_entity(ctx, command.entity or "")
    owed = await owed_now(ctx.scope, ctx.today, entities)
    rows = age(owed, ctx.today)
    whose, day = _whose(entities), ctx.fmt.day(ctx.today)
    if not rows:
        return Reply(subject=f"Aging{whose}: nothing outstanding",
                     intro=f"Nothing is outstanding on your account{whose} on {day}.")
    notes = [
        f"{r.currency}: " + " · ".join(
            f"{name} {ctx.fmt.money(amount, r.currency)}"
            for name, amount in zip((*BUCKETS, "Total"), (*r.buckets, r.total), strict=True))
        for r in rows
    ]
    notes += [f"{c}: of which {ctx.fmt.money(amount, c)} in dispute (aged like the rest)"
              for c, amount in _disputed(owed).items()]
    return Reply(subject=f"Aging of your open invoices{whose} on {day}",
                 intro=f"Aging of your open invoices{whose} on {day}, by days past due:",
                 notes=tuple(notes))
