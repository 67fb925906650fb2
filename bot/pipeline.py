"""handle(request) -> Answer: the one path every channel's question takes.

verify the contact -> parse the message into requests -> for each request: check the
contact's role, query the vault (account-scoped), grant and sign links, build a reply ->
combine the replies into one. Channels only translate; they never query the vault.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot import replies, roles
from bot.answers import Context, Tools
from bot.answers.archive import archive
from bot.answers.detail import show_invoice
from bot.answers.escalate import dispute, talk_to_person, tell_ar_if_needed
from bot.answers.help import help_reply, not_allowed
from bot.answers.listing import list_invoices
from bot.answers.money import aging, balance
from bot.answers.payments import payments
from bot.answers.preferences import answer_preferences
from bot.answers.statement import statement
from bot.commands import parse_request
from bot.formats import Formats
from bot.identity import Refusal, identify
from bot.intents import (
    Aging,
    Archive,
    Balance,
    Command,
    Dispute,
    Help,
    ListInvoices,
    Payments,
    Preferences,
    ShowInvoice,
    Statement,
    TalkToPerson,
    Unclear,
)
from bot.messages import Reply, Request
from vault import audit, links
from vault.config import Config
from vault.documents import DocumentStore
from vault.escalations import escalate
from vault.invoices import AccountScope
from vault.models import Contact
from vault.statements import HtmlRenderer, LazyPdfRenderer
from vault.timeutil import today_in, utcnow

MAX_REQUESTS = 10  # per message: enough for a real list, not for a denial of service

# Which answer serves which command (Help and Unclear need the role: see _answer).
ANSWERS: dict[type[Command], Callable[[Context, Any], Awaitable[Reply]]] = {
    ListInvoices: list_invoices,
    ShowInvoice: show_invoice,
    Balance: balance,
    Aging: aging,
    Statement: statement,
    Payments: payments,
    Archive: archive,
    Dispute: dispute,
    TalkToPerson: talk_to_person,
    Preferences: answer_preferences,
}


@dataclass(frozen=True)
class Answer:
    """The reply and who may receive it: only ever an address on file (or nobody)."""

    reply: Reply
    recipient: str | None
    contact_id: int | None
    refused: str = ""  # the refusal kind, when the sender got no invoice data


class Pipeline:
    def __init__(
        self,
        config: Config,
        signer: links.LinkSigner,
        clock: Callable[[], datetime] = utcnow,
        today: Callable[[str], date] = today_in,
        renderer: HtmlRenderer | None = None,
    ) -> None:
        self.config = config
        self.today = today  # what "March" means, in the contact's time zone
        own = LazyPdfRenderer()  # starts no process until a statement is asked for
        self._own_renderer = own if renderer is None else None
        self.tools = Tools(config=config, signer=signer, clock=clock,  # clock: link expiry
                           renderer=renderer or own, store=DocumentStore(config.vault_path))

    async def handle(self, request: Request) -> Answer:
        who = await identify(request)
        if isinstance(who, Refusal):
            return await self._refuse(request, who)
        return await self.answer_commands(who, request, None)

    async def answer_commands(
        self, who: Contact, request: Request, commands: list[Command | Unclear] | None
    ) -> Answer:
        """Answer a verified contact: the commands given (a caller that already holds
        typed commands), or else those parsed from the request's text."""
        scope = await AccountScope.for_contact(who)
        fmt = Formats.of(who.locale or scope.account.locale, who.timezone or scope.account.timezone)
        today = self.today(fmt.timezone)
        requests = commands or self._requests(request.text, today, fmt)
        parts = [await self._answer(Context(scope, fmt, today, request, n, self.tools), command)
                 for n, command in enumerate(requests)]
        reply = replies.combine(parts, today, fmt)
        await audit.record(
            "bot.request.answered", account_id=scope.account.id, contact_id=who.id,
            channel=request.channel, command=",".join(type(c).__name__ for c in requests),
            reference=request.reference,
        )
        return Answer(reply=reply, recipient=who.email, contact_id=who.id)

    def _requests(self, text: str, today: date, fmt: Formats) -> list[Command | Unclear]:
        """One command per request, each once (the parser passes over greetings and
        sign-offs); a message with nothing understood gives one Unclear."""
        parsed = parse_request(text, today, fmt.locale,
                               fiscal_year_start=self.config.seller.fiscal_year_start)
        return list(dict.fromkeys(parsed))[:MAX_REQUESTS] or [Unclear(text)]

    async def _answer(self, ctx: Context, command: Command | Unclear) -> Reply:
        role = ctx.scope.contact.role
        await tell_ar_if_needed(ctx, command)
        if isinstance(command, Unclear):
            return help_reply(role, understood=False, unclear=command)
        if not roles.allows(role, command):
            return not_allowed(role, command)
        if isinstance(command, Help):
            return help_reply(role)
        return await ANSWERS[type(command)](ctx, command)

    async def _refuse(self, request: Request, refusal: Refusal) -> Answer:
        contact: Contact | None = refusal.contact
        account_id = contact.account_id if contact else None
        await escalate(
            refusal.kind, f"{request.channel}:{request.reference or request.received_at}:refusal",
            at=self.tools.clock(), account_id=account_id,
            contact_id=contact.id if contact else None, address=request.address,
            summary=f"{refusal.kind.replace('_', ' ')} via {request.channel}",
        )
        await audit.record("bot.request.refused", account_id=account_id,
                           contact_id=contact.id if contact else None, reason=refusal.kind,
                           channel=request.channel, reference=request.reference)
        # A notice only ever goes to an address on file, never to whoever wrote.
        recipient = contact.email if contact and contact.active else None
        return Answer(reply=replies.neutral_notice(), recipient=recipient,
                      contact_id=contact.id if contact else None, refused=refusal.kind)

    async def close(self) -> None:
        """Stop the statement renderer this pipeline started, if it started one."""
        if self._own_renderer is not None:
            await self._own_renderer.close()
