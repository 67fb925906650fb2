"""The email channel after the 250: a stored message becomes a Request and a queued reply.

Everything works from the stored row, so a crash between 250 and the reply loses
nothing: on restart the row is still `received` and is processed again. The reply is
queued under a key derived from the message, in the same transaction that marks the row
processed, so reprocessing never sends a second reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

from tortoise.transactions import in_transaction

from bot import bounces, mailauth
from bot.channels.email import mark_processed, pending_messages
from bot.mailout import compose
from bot.mailtext import request_lines
from bot.messages import Link, Request
from bot.pipeline import Answer, Pipeline
from notifier import outbox
from vault import audit
from vault.config import EmailConfig
from vault.escalations import escalate
from vault.models import InboundMessage, OutboxMessage
from vault.timeutil import utcnow
from vault.vocabulary import EscalationKind, InboundState

log = logging.getLogger(__name__)

# A message that fails this often is poison (it breaks the parser every time), not an
# outage: it is set aside for AR, kept whole in the inbound store, and no longer retried.
MAX_ATTEMPTS = 3


class Inbox:
    def __init__(
        self, config: EmailConfig, pipeline: Pipeline, wake_delivery: Callable[[], None],
        dnsfunc: Callable[..., bytes] | None = None,
        offers: Callable[[int], Awaitable[list[Link]]] | None = None,
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.wake_delivery = wake_delivery
        self.dnsfunc = dnsfunc  # injectable DKIM key lookup, for tests
        self.offers = offers  # one-click chat links offered under answers (chat enabled)

    async def process_pending(self) -> int:
        """Process every stored message not yet answered (e.g. after a restart)."""
        ids = await pending_messages()
        for message_id in ids:
            # One message that fails (logged in process) must not stop the rest, or start-up.
            with contextlib.suppress(Exception):
                await self.process(message_id)
        return len(ids)

    async def process(self, message_id: int) -> str:
        row = await InboundMessage.get_or_none(id=message_id)
        if row is None or row.state != InboundState.RECEIVED:
            return "already processed"
        try:
            outcome = await self._handle(row)
        except Exception:
            attempts = row.attempts + 1
            log.exception("processing inbound message %s failed (attempt %d of %d)",
                          row.id, attempts, MAX_ATTEMPTS)
            await InboundMessage.filter(id=row.id).update(attempts=attempts)
            if attempts >= MAX_ATTEMPTS:
                return await self._set_aside(row, attempts)
            raise
        return outcome

    async def _set_aside(self, row: InboundMessage, attempts: int) -> str:
        async with in_transaction():
            await escalate(EscalationKind.UNPROCESSABLE, f"inbound:{row.id}:unprocessable",
                           at=utcnow(), address=row.mail_from,
                           summary=f"message {row.message_key[:80]} failed {attempts} "
                                   "times; kept in the inbound store")
            await audit.record("bot.inbound.unprocessable", inbound=row.id, attempts=attempts)
            await mark_processed(row.id, "unprocessable", state=InboundState.FAILED)
        return "unprocessable"

    async def _handle(self, row: InboundMessage) -> str:
        msg = email.message_from_bytes(bytes(row.raw_message), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        # Before the sender checks: reports come from MAILER-DAEMON, often with a From
        # we would refuse, and are never answered.
        bounce = bounces.parse_bounce(msg)
        if bounce is not None:
            return await self._bounce(row, bounce)
        sender = mailauth.parse_sender(msg)
        if not isinstance(sender, str):
            return await self._drop(row, "refused_sender", sender.reason)
        if mailauth.is_auto_generated(msg, row.mail_from):
            return await self._drop(row, "auto_generated", "no reply to automatic mail")
        request = Request(
            channel="email", address=sender, text="\n".join(request_lines(msg)),
            authenticated=await self._authenticated(msg, row, sender), received_at=row.received_at,
            reference=row.message_key,
        )
        answer = await self.pipeline.handle(request)
        return await self._reply(row, msg, answer)

    async def _authenticated(self, msg: EmailMessage, row: InboundMessage, sender: str) -> bool:
        if not self.config.require_authentication:
            return True
        domain = sender.rpartition("@")[2]
        if mailauth.authenticated_by_relay(msg, row.peer, self.config, domain).ok:
            return True
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
                if self.offers is not None and answer.contact_id and not answer.refused:
                    offers = await self.offers(answer.contact_id)
                reply = compose(
                    answer.reply, sender=self.config.sender, recipient=recipient,
                    in_reply_to=str(msg.get("Message-ID", "") or ""),
                    references=str(msg.get("References", "") or ""), offers=offers,
                )
                await outbox.enqueue(
                    key=f"email-reply:{row.message_key}", channel="email",
                    kind="notice" if answer.refused else "reply", recipient=recipient,
                    message=reply, message_id=str(reply["Message-ID"]),
                )
            await mark_processed(row.id, outcome)
        self.wake_delivery()
        return outcome

    async def _noticed_recently(self, recipient: str) -> bool:
        since = utcnow() - self.config.notice_interval
        return await OutboxMessage.filter(
            recipient=recipient, kind="notice", created_at__gte=since
        ).exists()

    async def _bounce(self, row: InboundMessage, bounce: bounces.Bounce) -> str:
        """A delivery report about our own mail: recorded (AR hears of failures), no reply."""
        async with in_transaction():
            outcome = await bounces.record_bounce(
                bounce, utcnow(), quiet_default=self.pipeline.config.alerts.default_quiet_hours,
                reference=row.message_key)
            await mark_processed(row.id, outcome)
        return outcome

    async def _drop(self, row: InboundMessage, kind: str, reason: str) -> str:
        """No reply at all; refusals of a malformed sender still reach AR."""
        if kind == "refused_sender":
            await escalate(EscalationKind.MALFORMED_SENDER, f"email:{row.message_key}:refusal",
                           at=utcnow(), summary=reason, address=row.mail_from)
        await audit.record(f"bot.email.{kind}", reason=reason, reference=row.message_key)
        await mark_processed(row.id, kind)
        return kind

