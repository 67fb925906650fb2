"""Statement of account: a PDF made on request, stored, and sent as a signed link."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.answers import Context
from bot.intents import Period, Statement
from bot.messages import Reply
from vault.answer_language import answer_language
from vault.statements import CurrencySection, build_statement, issue_statement


def year_to_date(today: date, fiscal_year_start: int) -> Period:
    """From the start of the current (fiscal) year to today."""
    year = today.year if today.month >= fiscal_year_start else today.year - 1
    return Period(date(year, fiscal_year_start, 1), today)


async def statement(ctx: Context, command: Statement) -> Reply:
    seller, _ = ctx.tools.config.seller, ctx.fmt.words.gettext
    period = command.period or year_to_date(ctx.today, seller.fiscal_year_start)
    name = ctx.fmt.period(period.start, period.end)
    if period.start > ctx.today:
        return Reply(subject=_("Statement for {period}: not yet").format(period=name),
                     intro=_("{period} has not started yet, so there is no statement for it."
                             ).format(period=name))
    # The reader's language as on file (a choice they made, their locale, their account's),
    # not guessed from one request's words: a document outlives the conversation.
    language = answer_language(ctx.scope.contact, ctx.scope.account)
    snapshot = await build_statement(ctx.scope, period.start, period.end, ctx.today, seller,
                                     language)
    document = await issue_statement(ctx.scope, snapshot, ctx.tools.renderer, ctx.tools.store,
                                     ctx.now)
    link = await ctx.link([document], f"{snapshot.label}.pdf")
    intro = (_("Here is your statement of account for {period} (as of {day}).")
             if snapshot.as_of < period.end
             else _("Here is your statement of account for {period}."))
    notes = [_summary(ctx, s) for s in snapshot.sections] or [
        _("No invoices or payments on your account up to the end of this period.")]
    return Reply(subject=_("Statement of account for {period}").format(period=name),
                 intro=intro.format(period=name, day=ctx.fmt.day(snapshot.as_of)),
                 links=(link,), links_expire=ctx.expiry(), notes=tuple(notes))


def _summary(ctx: Context, section: CurrencySection) -> str:
    def money(amount: Decimal) -> str:
        return ctx.fmt.money(amount, section.currency)

    _ = ctx.fmt.words.gettext
    text = (_("{currency}: opening balance {opening}, invoices {invoiced}, payments {paid}, "
              "closing balance {closing}, credit {credit}") if section.credit
            else _("{currency}: opening balance {opening}, invoices {invoiced}, payments "
                   "{paid}, closing balance {closing}"))
    return text.format(currency=section.currency, opening=money(section.opening),
                       invoiced=money(section.invoiced), paid=money(section.paid),
                       closing=money(section.closing), credit=money(section.credit))
