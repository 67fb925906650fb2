"""The email channel after the 250: a stored message becomes a Request and a queued reply.

Everything works from the stored row, so a crash between 250 and the reply loses
nothing: the row is still `received` and is processed again (bot.inbound, the state
machine every channel shares, holds the queue, the attempts and the set-aside). The reply
is queued under a key derived from the message, in the same transaction that marks the row
processed, so reprocessing never sends a second reply.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser

from tortoise.transactions import in_transaction

from bot import bounces, conversation, mailauth
from bot.inbound import RETRY_EVERY, InboundQueue, Origin
from bot.mailtext import bare_subject
from bot.mailworker import MailReader, OverBudget
from bot.messages import Link, Request
from bot.outgoing import reply_message
from bot.pipeline import Answer, Pipeline
from notifier import outbox
from notifier.message import mail_from
from vault import audit
from vault.config import EmailConfig
from vault.escalations import escalate
from vault.models import InboundMessage, OutboxMessage
from vault.vocabulary import Channel, EscalationKind, OutboxKind

log = logging.getLogger(__name__)

# Outcomes that drop a message without reply but tell AR (the address, not the content).
_REFUSALS_FOR_AR = {
    "refused_headers": EscalationKind.REPEATED_HEADER,
    "refused_sender": EscalationKind.MALFORMED_SENDER,
}


class Inbox:
    def __init__(
        self, config: EmailConfig, pipeline: Pipeline, wake_delivery: Callable[[], None],
        dnsfunc: Callable[..., bytes] | None = None,
        offers: Callable[[int, Sequence[str]], Awaitable[list[Link]]] | None = None,
        retry_every: timedelta = RETRY_EVERY,
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.wake_delivery = wake_delivery
        self.dnsfunc = dnsfunc  # injectable DKIM key lookup, for tests
        self.offers = offers  # one-click chat links offered under answers (chat enabled)
        self.queue = InboundQueue(InboundMessage, self.handle, self.origin, pipeline.clock,
                                  retry_every)
        self.reader = MailReader(config.limits)

    def now(self) -> datetime:
        return self.pipeline.clock.now()  # the service's one clock

    async def origin(self, row: InboundMessage) -> Origin:
        """For AR: the envelope sender (the From may be what failed to parse)."""
        return Origin(Channel.EMAIL, row.message_key, row.mail_from)

    async def handle(self, row: InboundMessage) -> str:
        raw = bytes(row.raw_message)
        try:
            # The body is parsed in the reader's worker, within its budgets; the event
            # loop parses only the top-level headers (at most 100 KB, bot.mailscan).
            reading = await self.reader.read(raw)
        except OverBudget as over:
            return await self.queue.set_aside(row, f"set aside unread: {over}")
        msg = BytesParser(policy=email.policy.default).parsebytes(raw[:reading.header_size])
        assert isinstance(msg, EmailMessage)
        # Before the sender checks: reports come from MAILER-DAEMON, often with a From
        # we would refuse, and are never answered.
        # First of all: with a header twice, DKIM vouches for one copy and we would read
        # the other (a replayed signed mail with a chosen Subject on top).
        forged = mailauth.header_refusal(msg, self.config.authserv_id)
        if forged is not None:
            return await self._drop(row, "refused_headers", forged)
        bounce = reading.bounce
        if bounce is not None:
            return await self._bounce(row, bounce)
        sender = mailauth.parse_sender(msg)
        if not isinstance(sender, str):
            return await self._drop(row, "refused_sender", sender.reason)
        if mailauth.is_auto_generated(msg, row.mail_from):
            return await self._drop(row, "auto_generated", "no reply to automatic mail")
        # A reply to one of ours: our subject is not a request, the new text is.
        reply = await conversation.replies_to_ours(msg, sender)
        subject = bare_subject(msg)
        lines = list(reading.reply_lines) if reply else [subject] * bool(subject) + list(
            reading.lines)
        if reply and not lines:
            return await self._drop(row, "empty_reply", "a reply to ours with no new text")
        request = Request(
            channel="email", address=sender, text="\n".join(lines),
            authenticated=await self._authenticated(msg, row, sender), received_at=row.received_at,
            reference=row.message_key,
        )
        answer = await self.pipeline.handle(request)
        return await self._reply(row, msg, answer)

    async def _authenticated(self, msg: EmailMessage, row: InboundMessage, sender: str) -> bool:
        if not self.config.require_authentication:
            return True
        domain = sender.rpartition("@")[2]
        verdict = mailauth.authenticated_by_relay(msg, row.peer, self.config, domain)
        if verdict.ok or verdict.final:  # our relay's dmarc=fail outweighs our own DKIM
            return verdict.ok
        if self.config.verify_dkim:
            # DNS lookups block: keep them off the event loop.
            return await asyncio.to_thread(
                mailauth.verify_dkim, bytes(row.raw_message), domain, dnsfunc=self.dnsfunc
            )
        return False

    async def _reply(self, row: InboundMessage, msg: EmailMessage, answer: Answer) -> str:
        outcome = f"refused:{answer.refused}" if answer.refused else "answered"
        recipient = answer.recipient
        if recipient and answer.refused and await self._noticed_recently(recipient):
            recipient = None  # one neutral notice per interval: no mail-bombing an address
        async with in_transaction():
            if recipient and answer.reply.deliver:
                offers = []
                # Only a reply to "connect telegram" carries linking tokens: a forwarded
                # ordinary reply must not let a third party link a chat.
                if (self.offers is not None and answer.contact_id and not answer.refused
                        and answer.reply.chat_offers):
                    offers = await self.offers(answer.contact_id, answer.reply.chat_offers)
                mail = mail_from(
                    self.config, auto_replied=True,
                    in_reply_to=str(msg.get("Message-ID", "") or ""),
                    references=str(msg.get("References", "") or ""))
                await outbox.enqueue(reply_message(
                    answer.reply, key=f"email-reply:{row.message_key}", channel=Channel.EMAIL,
                    kind=OutboxKind.NOTICE if answer.refused else OutboxKind.REPLY,
                    recipient=recipient, contact_id=answer.contact_id, mail=mail,
                    offers=offers),
                    now=self.now(), request_received_at=row.received_at)
            await self.queue.mark_processed(row.id, outcome)
        self.wake_delivery()
        return outcome

    async def _noticed_recently(self, recipient: str) -> bool:
        since = self.now() - self.config.notice_interval
        return await OutboxMessage.filter(
            recipient=recipient, kind="notice", created_at__gte=since
        ).exists()

    async def _bounce(self, row: InboundMessage, bounce: bounces.Bounce) -> str:
        """A delivery report about our own mail: recorded (AR hears of failures), no reply."""
        async with in_transaction():
            outcome = await bounces.record_bounce(
                bounce, self.now(), quiet_default=self.pipeline.config.alerts.default_quiet_hours,
                reference=row.message_key)
            await self.queue.mark_processed(row.id, outcome)
        return outcome

    async def _drop(self, row: InboundMessage, kind: str, reason: str) -> str:
        """No reply at all; refusals of a malformed sender or forged headers reach AR."""
        if kind in _REFUSALS_FOR_AR:
            await escalate(_REFUSALS_FOR_AR[kind], f"email:{row.message_key}:refusal",
                           at=self.now(), summary=reason, address=row.mail_from)
        await audit.record(f"bot.email.{kind}", reason=reason, reference=row.message_key)
        await self.queue.mark_processed(row.id, kind)
        return kind

