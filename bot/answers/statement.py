"""Statement of account: a PDF made on request, stored, and sent as a signed link."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.answers import Context
from bot.intents import Period, Statement
from bot.messages import Reply
from vault.statements import CurrencySection, build_statement, issue_statement


def year_to_date(today: date, fiscal_year_start: int) -> Period:
    """From the start of the current (fiscal) year to today."""
    year = today.year if today.month >= fiscal_year_start else today.year - 1
    return Period(date(year, fiscal_year_start, 1), today)


async def statement(ctx: Context, command: Statement) -> Reply:
    seller = ctx.tools.config.seller
    period = command.period or year_to_date(ctx.today, seller.fiscal_year_start)
    name = ctx.fmt.period(period.start, period.end)
    if period.start > ctx.today:
        return Reply(subject=f"Statement for {name}: not yet",
                     intro=f"{name} has not started yet, so there is no statement for it.")
    snapshot = await build_statement(ctx.scope, period.start, period.end, ctx.today, seller)
    document = await issue_statement(ctx.scope, snapshot, ctx.tools.renderer, ctx.tools.store,
                                     ctx.now)
    link = await ctx.link([document], f"{snapshot.label}.pdf")
    as_of = f" (as of {ctx.fmt.day(snapshot.as_of)})" if snapshot.as_of < period.end else ""
    notes = [_summary(ctx, s) for s in snapshot.sections] or [
        "No invoices or payments on your account up to the end of this period."]
    return Reply(subject=f"Statement of account for {name}",
                 intro=f"Here is your statement of account for {name}{as_of}.",
                 links=(link,), links_expire=ctx.expiry(), notes=tuple(notes))


def _summary(ctx: Context, section: CurrencySection) -> str:
    def money(amount: Decimal) -> str:
        return ctx.fmt.money(amount, section.currency)

    text = (f"{section.currency}: opening balance {money(section.opening)}, invoices "
            f"{money(section.invoiced)}, payments {money(section.paid)}, closing balance "
            f"{money(section.closing)}")
    return text + (f", credit {money(section.credit)}" if section.credit else "")
