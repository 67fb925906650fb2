"""handle(request) -> Answer: the one path every channel's question takes.

verify the contact -> parse the message into requests -> for each request: check the
contact's role, query the vault (account-scoped), grant and sign links, build a reply ->
combine the replies into one. Channels only translate; they never query the vault.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import date

from bot import registry, replies
from bot.answers import Context, Tools
from bot.answers.escalate import tell_ar_if_needed
from bot.commands import parse_request
from bot.identity import Refusal, identify
from bot.intents import AnswerIn, Command, Dispute, TalkToPerson, Unclear
from bot.language.detect import written_in
from bot.messages import Reply, Request
from vault import audit, links, metrics
from vault.answer_language import answer_language
from vault.clock import Clock
from vault.config import Config
from vault.documents import DocumentStore
from vault.escalations import escalate
from vault.formats import Formats
from vault.i18n import SOURCE_LANGUAGE
from vault.invoices import AccountScope
from vault.models import Contact
from vault.statements import DocumentRenderer, LazyPdfRenderer
from vault.vocabulary import EscalationKind, RequestOutcome

MAX_REQUESTS = 10  # per message: enough for a real list, not for a denial of service
# One line per request handled, with its fields as `extra` (the JSON log's keys): never
# the text, a token or a code.
request_log = logging.getLogger("invoicebot.request")
_UNVERIFIED = {EscalationKind.UNAUTHENTICATED, EscalationKind.UNLINKED}
_TO_A_PERSON = (Dispute, TalkToPerson)

@dataclass(frozen=True)
class Answer:
    """The reply and who may receive it: only ever an address on file (or nobody)."""

    reply: Reply
    recipient: str | None
    contact_id: int | None
    refused: str = ""  # the refusal kind, when the sender got no invoice data
    outcome: RequestOutcome = RequestOutcome.ANSWERED


class Pipeline:
    def __init__(
        self,
        config: Config,
        signer: links.LinkSigner,
        clock: Clock,
        renderer: DocumentRenderer | None = None,
        store: DocumentStore | None = None,
    ) -> None:
        self.config = config
        # Now and today (what "March" means, in the contact's time zone); its as_of
        # answers as of a past day.
        self.clock = clock
        own = LazyPdfRenderer()  # starts no process until a statement is asked for
        self._own_renderer = own if renderer is None else None
        # Its own store when not given the service's (closed by close()).
        self._own_store: DocumentStore | None = None
        if store is None:
            store = self._own_store = DocumentStore.open(config.vault)
        self.tools = Tools(config=config, signer=signer, clock=clock,
                           renderer=renderer or own, store=store)

    async def handle(self, request: Request) -> Answer:
        started = time.perf_counter()
        who = await identify(request)
        if isinstance(who, Refusal):
            answer = await self._refuse(request, who)
        else:
            answer = await self.answer_commands(who, request, None)
        _observe(request, answer, time.perf_counter() - started)
        return answer

    async def answer_commands(
        self, who: Contact, request: Request, commands: list[Command | Unclear] | None
    ) -> Answer:
        """Answer a verified contact: the commands given (a caller that already holds
        typed commands), or else those parsed from the request's text."""
        scope = await AccountScope.for_contact(who, as_of=self.clock.as_of)
        fmt = Formats.of(who.locale or scope.account.locale, who.timezone or scope.account.timezone)
        today = self.clock.today(fmt.timezone)
        requests = commands or self._requests(request.text, today, fmt)
        fmt = replace(fmt, language=_language(who, scope, request, requests))
        parts = [await self._answer(Context(scope, fmt, today, request, n, self.tools), command)
                 for n, command in enumerate(requests)]
        reply = replies.combine(parts, today, fmt)
        outcome = _outcome(requests)
        await audit.record(
            "bot.request.answered", account_id=scope.account.id, contact_id=who.id,
            channel=request.channel, command=",".join(type(c).__name__ for c in requests),
            reference=request.reference, outcome=outcome.value,
            received_at=request.received_at.isoformat(),
        )
        return Answer(reply=reply, recipient=who.email, contact_id=who.id, outcome=outcome)

    def _requests(self, text: str, today: date, fmt: Formats) -> list[Command | Unclear]:
        """One command per request, each once (the parser passes over greetings and
        sign-offs); a message with nothing understood gives one Unclear."""
        parsed = parse_request(text, today, fmt.locale,
                               fiscal_year_start=self.config.seller.fiscal_year_start)
        return list(dict.fromkeys(parsed))[:MAX_REQUESTS] or [Unclear(text)]

    async def _answer(self, ctx: Context, command: Command | Unclear) -> Reply:
        await tell_ar_if_needed(ctx, command)
        return await registry.answer(ctx, command)

    async def _refuse(self, request: Request, refusal: Refusal) -> Answer:
        contact: Contact | None = refusal.contact
        account_id = contact.account_id if contact else None
        await escalate(
            refusal.kind, f"{request.channel}:{request.reference or request.received_at}:refusal",
            at=self.clock.now(), account_id=account_id,
            contact_id=contact.id if contact else None, address=request.address,
            summary=f"{refusal.kind.replace('_', ' ')} via {request.channel}",
        )
        outcome = (RequestOutcome.UNVERIFIED if refusal.kind in _UNVERIFIED
                   else RequestOutcome.REFUSED)
        await audit.record("bot.request.refused", account_id=account_id,
                           contact_id=contact.id if contact else None, reason=refusal.kind,
                           channel=request.channel, reference=request.reference,
                           outcome=outcome.value, received_at=request.received_at.isoformat())
        # A notice only ever goes to an address on file, never to whoever wrote.
        recipient = contact.email if contact and contact.active else None
        language = written_in(request.text) or SOURCE_LANGUAGE
        return Answer(reply=replies.neutral_notice(language), recipient=recipient,
                      contact_id=contact.id if contact else None, refused=refusal.kind,
                      outcome=outcome)

    async def close(self) -> None:
        """Stop the statement renderer and close the store this pipeline started, if any."""
        if self._own_renderer is not None:
            await self._own_renderer.close()
        if self._own_store is not None:
            await self._own_store.close()


def _language(who: Contact, scope: AccountScope, request: Request,
              requests: list[Command | Unclear]) -> str:
    """The answer's language (vault.answer_language); "answer in German" in this very
    message already counts, so its confirmation comes in German."""
    chosen = next((c.language for c in requests if isinstance(c, AnswerIn)), None)
    return chosen or answer_language(who, scope.account, written_in(request.text))


def _outcome(requests: list[Command | Unclear]) -> RequestOutcome:
    """Handed to a person if any request was; not understood if none was understood."""
    if any(isinstance(c, _TO_A_PERSON) for c in requests):
        return RequestOutcome.ESCALATED
    if all(isinstance(c, Unclear) for c in requests):
        return RequestOutcome.NOT_UNDERSTOOD
    return RequestOutcome.ANSWERED


def _observe(request: Request, answer: Answer, seconds: float) -> None:
    """The one place a handled request is counted and logged."""
    metrics.request_handled(request.channel, answer.outcome)
    request_log.info(
        "request %s: %s via %s in %.0f ms", request.reference or "-", answer.outcome.value,
        request.channel, seconds * 1000,
        extra={"request_id": request.reference, "channel": request.channel,
               "contact_id": answer.contact_id, "outcome": answer.outcome.value,
               "duration_ms": round(seconds * 1000, 1)})
