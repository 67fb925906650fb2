"""Every command the bot answers, one record each: the ONE place a command is declared.

A record holds the command's parse result type (made by the parser in bot.language), the
answer that serves it (bot.answers), the lowest role allowed to ask for it, what it is
called in a sentence, and example phrasings. Help, not-understood and not-allowed replies
are generated from these records; the examples are templates filled from the asking
contact's own account (see bot.answers.examples for the fields). Adding a command means
adding its type to bot.intents.Command, teaching the parser to produce it, and one record
here.

Roles are ranked (vault.vocabulary.Role): `ap` contacts see invoices, payments and
balances (and archives, help, a person, their alert settings, and disputes: the AP clerk
is usually the one who finds the error); `approver` adds statements and aging.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.answers import Context
from bot.answers.archive import archive
from bot.answers.connect import connect_chat
from bot.answers.courtesy import thanks
from bot.answers.detail import show_invoice
from bot.answers.escalate import dispute, talk_to_person
from bot.answers.help import help_reply, not_allowed
from bot.answers.language import answer_in
from bot.answers.listing import list_invoices
from bot.answers.money import aging, balance
from bot.answers.payments import payments
from bot.answers.preferences import answer_preferences
from bot.answers.statement import statement
from bot.intents import (
    Aging,
    AnswerIn,
    Archive,
    Balance,
    Command,
    ConnectChat,
    Dispute,
    Help,
    ListInvoices,
    Payments,
    Preferences,
    ShowInvoice,
    Statement,
    TalkToPerson,
    Thanks,
    Unclear,
)
from bot.messages import Reply
from vault.vocabulary import Role

Handler = Callable[[Context, Any], Awaitable[Reply]]


def N_(text: str) -> str:
    """Marks an English text for the `messages` catalogue (Babel's extract finds it); the
    help translates it when it shows it, in the asking contact's language."""
    return text


@dataclass(frozen=True)
class Entry:
    """One command: what parses to it, what answers it, who may ask, how to ask."""

    kind: type[Command]
    handler: Handler
    minimum: Role
    name: str  # what it is called in a sentence: "lists of invoices" (English; N_)
    examples: tuple[str, ...]  # templates: fields filled from the contact's account (N_)

    def allows(self, role: Role) -> bool:
        return role.at_least(self.minimum)

    def roles(self) -> tuple[Role, ...]:
        """The roles that may ask for it, lowest first ("approver or manager")."""
        return tuple(sorted((r for r in Role if self.allows(r)), key=lambda r: r.rank))


async def _help(ctx: Context, command: Help) -> Reply:
    return await help_reply(ctx, REGISTRY)


# In the order help lists them.
REGISTRY: tuple[Entry, ...] = (
    Entry(ListInvoices, list_invoices, Role.AP, N_("lists of invoices"), (
        N_("invoices {month}"), N_("unpaid"), N_("overdue invoices"),
        N_("paid invoices {year}"), N_("invoices over {amount}"), N_("invoices for {entity}"),
        N_("invoices {po}"), N_("last 3 invoices"), N_("invoices due this week"))),
    Entry(ShowInvoice, show_invoice, Role.AP, N_("an invoice in detail"),
          (N_("invoice {invoice}"),)),
    Entry(Balance, balance, Role.AP, N_("your balance"), (N_("balance"),)),
    Entry(Payments, payments, Role.AP, N_("payments"), (N_("payments"), N_("payments {month}"))),
    Entry(Archive, archive, Role.AP, N_("archives"), (N_("all {year} as zip"),)),
    Entry(Statement, statement, Role.APPROVER, N_("statements"),
          (N_("statement"), N_("statement Q1"))),
    Entry(Aging, aging, Role.APPROVER, N_("aging reports"), (N_("aging"),)),
    Entry(Dispute, dispute, Role.AP, N_("disputes"), (N_("dispute {invoice} wrong quantity"),)),
    Entry(TalkToPerson, talk_to_person, Role.AP, N_("talking to a person"),
          (N_("talk to a person"),)),
    Entry(Preferences, answer_preferences, Role.AP, N_("notification settings"),
          (N_("my notification settings"),)),
    Entry(AnswerIn, answer_in, Role.AP, N_("the language of our answers"),
          (N_("answer in German"),)),
    Entry(ConnectChat, connect_chat, Role.AP, N_("asking us in Slack or Telegram"),
          (N_("connect telegram"), N_("connect slack"))),
    Entry(Help, _help, Role.AP, N_("help"), (N_("help"),)),
    # No examples: help never offers it; "thanks" alone gets a short answer, not the help.
    Entry(Thanks, thanks, Role.AP, N_("thanks"), ()),
)
_BY_KIND = {entry.kind: entry for entry in REGISTRY}


def entry_for(command: Command | type[Command]) -> Entry:
    return _BY_KIND[command if isinstance(command, type) else type(command)]


async def answer(ctx: Context, command: Command | Unclear) -> Reply:
    """The reply to one request: help if it was not understood, a refusal naming the
    roles that may if the contact's role may not, else the command's answer."""
    if isinstance(command, Unclear):
        return await help_reply(ctx, REGISTRY, unclear=command)
    entry, role = entry_for(command), Role.of(ctx.scope.contact.role)
    if not entry.allows(role):
        return not_allowed(role, entry, ctx.fmt)
    return await entry.handler(ctx, command)
