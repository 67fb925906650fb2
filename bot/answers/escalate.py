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
    number = invoice.number
    if outcome.refused == "void":
        return Reply(subject=f"Invoice {number} is void",
                     intro=f"Invoice {number} is void, so there is nothing to dispute.")
    if outcome.refused == "paid":
        reason = command.reason.strip() or "(no reason given)"
        await note_for_ar(ctx.scope, EscalationKind.DISPUTE,
                          f"{number} (paid in full) questioned: {reason}", f"{ctx.key}:paid",
                          ctx.now)
        return Reply(subject=f"Invoice {number} is paid in full",
                     intro=f"Invoice {number} is paid in full, so it cannot be put in dispute. "
                           "We have passed your message to our accounts receivable team, who "
                           "will contact you about it.")
    if outcome.refused == "already_disputed":
        since = f" since {ctx.fmt.local_day(outcome.since)}" if outcome.since else ""
        return Reply(subject=f"Invoice {number} is already disputed",
                     intro=f"Invoice {number} is already under dispute{since}. Our accounts "
                           "receivable team is looking into it and will contact you.")
    reason = command.reason.strip() or "(no reason given)"
    return Reply(
        subject=f"Dispute of invoice {number} received",
        intro=f"We have recorded your dispute of invoice {number}. Its status is now "
              "disputed, and our accounts receivable team will contact you about it.",
        notes=(f"Reason: {reason}", f"Recorded: {ctx.fmt.moment(ctx.now)}"),
    )


async def talk_to_person(ctx: Context, command: TalkToPerson) -> Reply:
    # AR gets the whole message, not just this line: the context is the point.
    await ask_for_person(ctx.scope, ctx.request.text, f"{ctx.key}:person", ctx.now)
    return Reply(
        subject="A person from our team will get in touch",
        intro="We have passed your message to our accounts receivable team; a person will "
              "get back to you, usually within one business day.",
        outro="You can keep asking the bot for invoices in the meantime.",
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
