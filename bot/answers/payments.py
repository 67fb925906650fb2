"""Payments / remittance history: what we received, when, for which invoice."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from bot.answers import MAX_ROWS, Context
from bot.intents import Payments
from bot.messages import Reply
from vault.models import Payment


async def payments(ctx: Context, command: Payments) -> Reply:
    period, _ = command.period, ctx.fmt.words.gettext
    if period is None:
        found = await ctx.scope.payments_between(None, None, limit=MAX_ROWS)
        title = _("Your latest payments")
    else:
        found = await ctx.scope.payments_between(period.start, period.end)
        title = _("Payments received in {period}").format(
            period=ctx.fmt.period(period.start, period.end))
    if not found:
        return Reply(subject=_("{title}: none").format(title=title),
                     intro=_("{title}: none.").format(title=title),
                     outro=await _latest_hint(ctx))
    count = ctx.fmt.words.ngettext("{count} payment", "{count} payments", len(found)
                                   ).format(count=len(found))
    intro = _("{title}: {count}, totalling {total}.").format(
        title=title, count=count, total=ctx.fmt.totals(_totals(found)))
    if len(found) > MAX_ROWS:
        intro += " " + _("The {n} most recent are listed.").format(n=MAX_ROWS)
    return Reply(subject=_("{title}: {count}").format(title=title, count=count), intro=intro,
                 notes=tuple(_line(ctx, p) for p in found[:MAX_ROWS]))


def _line(ctx: Context, payment: Payment) -> str:
    invoice, _ = payment.invoice, ctx.fmt.words.gettext
    how = ", ".join(x for x in (payment.reference, payment.method) if x)
    text = (_("{day}: {amount} for {number} ({how})") if how
            else _("{day}: {amount} for {number}"))
    return text.format(day=ctx.fmt.day(payment.paid_on), number=invoice.number, how=how,
                       amount=ctx.fmt.money(payment.amount, invoice.currency))


def _totals(found: list[Payment]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for payment in found:
        sums[payment.invoice.currency] += payment.amount
    return dict(sums)


async def _latest_hint(ctx: Context) -> str:
    _ = ctx.fmt.words.gettext
    latest = await ctx.scope.payments_between(None, None, limit=1)
    if not latest:
        return _("We have not received any payments on your account yet.")
    return _("The latest payment we received: {payment}.").format(
        payment=_line(ctx, latest[0]))
