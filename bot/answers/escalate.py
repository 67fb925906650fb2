"""Disputes and "talk to a person": recorded, handed to AR, acknowledged to the contact."""

from __future__ import annotations

from bot.answers import Context
from bot.answers.detail import find_invoice
from bot.intents import Command, Dispute, ListInvoices, TalkToPerson, Unclear
from bot.messages import Reply
from vault.disputes import ask_for_person, note_for_ar, open_dispute
from vault.models import InvoiceStatus
from vault.vocabulary import EscalationKind


async def dispute(ctx: Context, command: Dispute) -> Reply:
    invoice = await find_invoice(ctx, command.ref)
    if isinstance(invoice, Reply):
        return invoice
    outcome = await open_dispute(ctx.scope, invoice, command.reason.strip(), ctx.now)
    number, _ = invoice.number, ctx.fmt.words.gettext
    if outcome.refused == "void":
        return Reply(subject=_("Invoice {number} is void").format(number=number),
                     intro=_("Invoice {number} is void, so there is nothing to dispute.").format(
                         number=number))
    if outcome.refused == "paid":
        # AR reads English (its digest is in the seller's language, not the contact's).
        reason = command.reason.strip() or "(no reason given)"
        await note_for_ar(ctx.scope, EscalationKind.DISPUTE,
                          f"{number} (paid in full) questioned: {reason}", f"{ctx.key}:paid",
                          ctx.now)
        return Reply(subject=_("Invoice {number} is paid in full").format(number=number),
                     intro=_("Invoice {number} is paid in full, so it cannot be put in dispute. "
                             "We have passed your message to our accounts receivable team, who "
                             "will contact you about it.").format(number=number))
    if outcome.refused == "already_disputed":
        intro = (_("Invoice {number} is already under dispute since {day}. Our accounts "
                   "receivable team is looking into it and will contact you.") if outcome.since
                 else _("Invoice {number} is already under dispute. Our accounts receivable "
                        "team is looking into it and will contact you."))
        return Reply(subject=_("Invoice {number} is already disputed").format(number=number),
                     intro=intro.format(number=number, day=ctx.fmt.local_day(outcome.since)
                                        if outcome.since else ""))
    reason = command.reason.strip() or _("(no reason given)")
    return Reply(
        subject=_("Dispute of invoice {number} received").format(number=number),
        intro=_("We have recorded your dispute of invoice {number}. Its status is now "
                "disputed, and our accounts receivable team will contact you about it.").format(
                    number=number),
        notes=(_("Reason: {reason}").format(reason=reason),
               _("Recorded: {moment}").format(moment=ctx.fmt.moment(ctx.now))),
    )


async def talk_to_person(ctx: Context, command: TalkToPerson) -> Reply:
    # AR gets the whole message, not just this line: the context is the point.
    await ask_for_person(ctx.scope, ctx.request.text, f"{ctx.key}:person", ctx.now)
    _ = ctx.fmt.words.gettext
    return Reply(
        subject=_("A person from our team will get in touch"),
        intro=_("We have passed your message to our accounts receivable team; a person will "
                "get back to you, usually within one business day."),
        outro=_("You can keep asking the bot for invoices in the meantime."),
    )


async def tell_ar_if_needed(ctx: Context, command: Command | Unclear) -> None:
    """What AR wants to see in its digest without being asked: a verified contact the
    bot did not understand, and contacts asking about overdue invoices (a payment may be
    stuck on their side)."""
    if isinstance(command, Unclear):
        await note_for_ar(ctx.scope, EscalationKind.UNCLEAR, command.text,
                          f"{ctx.key}:unclear", ctx.now)
    elif (isinstance(command, ListInvoices)
          and InvoiceStatus.OVERDUE in command.filters.statuses):
        await note_for_ar(ctx.scope, EscalationKind.OVERDUE_QUESTION,
                          "asked for their overdue invoices", f"{ctx.key}:overdue", ctx.now)
