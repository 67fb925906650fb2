"""Payments / remittance history: what we received, when, for which invoice."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from bot.answers import MAX_ROWS, Context
from bot.intents import Payments
from bot.messages import Reply
from vault.formats import plural
from vault.models import Payment


async def payments(ctx: Context, command: Payments) -> Reply:
    period = command.period
    if period is None:
        found = await ctx.scope.payments_between(None, None, limit=MAX_ROWS)
        title = "Your latest payments"
    else:
        found = await ctx.scope.payments_between(period.start, period.end)
        title = f"Payments received in {ctx.fmt.period(period.start, period.end)}"
    if not found:
        return Reply(subject=f"{title}: none", intro=f"{title}: none.",
                     outro=await _latest_hint(ctx))
    count = plural(len(found), "payment")
    more = f" The {MAX_ROWS} most recent are listed." if len(found) > MAX_ROWS else ""
    return Reply(
        subject=f"{title}: {count}",
        intro=f"{title}: {count}, totalling {ctx.fmt.totals(_totals(found))}.{more}",
        notes=tuple(_line(ctx, p) for p in found[:MAX_ROWS]),
    )


def _line(ctx: Context, payment: Payment) -> str:
    invoice = payment.invoice
    how = ", ".join(x for x in (payment.reference, payment.method) if x)
    return (f"{ctx.fmt.day(payment.paid_on)}: {ctx.fmt.money(payment.amount, invoice.currency)}"
            f" for {invoice.number}" + (f" ({how})" if how else ""))


def _totals(found: list[Payment]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for payment in found:
        sums[payment.invoice.currency] += payment.amount
    return dict(sums)


async def _latest_hint(ctx: Context) -> str:
    latest = await ctx.scope.payments_between(None, None, limit=1)
    if not latest:
        return "We have not received any payments on your account yet."
    return f"The latest payment we received: {_line(ctx, latest[0])}."
