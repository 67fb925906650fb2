"""The chat channels after the acknowledgement: a stored message becomes a queued answer.

Slack and Telegram handlers only translate a delivery into a ChatMessage and call
`receive`, which stores it under the delivery's id before the platform gets its ack: a
retry or a replayed delivery finds the row and changes nothing, and a crash after the ack
loses nothing (the row is processed on the next start). Processing then runs here, off
the request: linking commands go to the Linker, everything else to the one pipeline, and
the answer is queued in the outbox in the same transaction that marks the row processed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.chatguard import ChatUser
from bot.chatlink import Linker, how_to_link, link_command
from bot.chatreply import chat_payload
from bot.messages import Reply, Request, printable
from bot.pipeline import Pipeline
from notifier import outbox
from vault.models import ChatInbound, ChatLink, ChatLinkCode, ChatLinkToken
from vault.timeutil import utcnow
from vault.vocabulary import EscalationKind

log = logging.getLogger(__name__)

KEEP_PROCESSED = timedelta(days=7)  # longer than any platform retries a delivery
STALE = timedelta(minutes=2)  # unanswered this long: its try failed, queue it again


@dataclass(frozen=True)
class ChatMessage:
    """One delivery from a chat platform, translated: who, where, what."""

    key: str  # unique per delivery: slack:<event_id>, telegram:<update_id>
    user: ChatUser
    text: str
    received_at: datetime


@dataclass(frozen=True)
class Outcome:
    reply: Reply | None  # None: say nothing
    recipient: str
    label: str  # what happened, stored on the row


class ChatInbox:
    def __init__(self, pipeline: Pipeline, linker: Linker,
                 wake_delivery: Callable[[], None]) -> None:
        self.pipeline = pipeline
        self.linker = linker
        self.wake_delivery = wake_delivery
        self._queue: asyncio.Queue[int] = asyncio.Queue()

    async def receive(self, message: ChatMessage) -> bool:
        """Store a delivery once; False for a retry or replay of one already stored.

        Call before acknowledging it to the platform; the work happens later, in `run`.
        """
        user = message.user
        try:
            row = await ChatInbound.create(
                key=message.key, platform=user.platform, team_id=user.team_id,
                user_id=user.user_id, chat_id=user.chat_id, text=printable(message.text)[:4000],
                received_at=message.received_at,
            )
        except IntegrityError:
            log.info("chat delivery %s already received; ignored", message.key)
            return False
        self._queue.put_nowait(row.id)
        return True

    async def run(self) -> None:
        """The worker: answers stored messages in arrival order, one at a time."""
        while True:
            row_id = await self._queue.get()
            try:
                await self.process(row_id)
            except Exception:  # the row stays `received`; requeue_stale tries it again
                log.exception("chat message %s failed; it stays queued", row_id)

    async def requeue_stale(self, now: datetime | None = None) -> int:
        """Queue again what is still unanswered after a while (its try failed, e.g. on a
        locked database); returns how many. The worker takes rows one at a
        time and skips answered ones, so a row queued twice is answered once."""
        cutoff = (now or utcnow()) - STALE
        rows = await ChatInbound.filter(state="received", received_at__lt=cutoff) \
            .order_by("id").values("id")
        for row in rows:
            self._queue.put_nowait(int(row["id"]))
        return len(rows)

    async def process_pending(self) -> int:
        rows = await ChatInbound.filter(state="received").order_by("id").values("id")
        for row in rows:
            await self.process(int(row["id"]))
        return len(rows)

    async def process(self, row_id: int) -> str:
        row = await ChatInbound.get_or_none(id=row_id, state="received")
        if row is None:
            return "already processed"
        user = ChatUser(row.platform, row.team_id, row.user_id, row.chat_id)
        outcome = await self._answer(row, user)
        async with in_transaction():
            if outcome.reply is not None and outcome.reply.deliver:
                await outbox.enqueue(
                    key=f"chat-reply:{row.key}", channel=row.platform, kind="reply",
                    recipient=outcome.recipient, message=chat_payload(outcome.reply),
                )
            await ChatInbound.filter(id=row.id, state="received").update(
                state="processed", outcome=outcome.label[:64], processed_at=utcnow())
        self.wake_delivery()
        return outcome.label

    async def _answer(self, row: ChatInbound, user: ChatUser) -> Outcome:
        command = link_command(row.text, user.platform)
        if command is not None:
            return Outcome(await self.linker.run(command, user), user.chat_id,
                           f"link:{command.verb}")
        answer = await self.pipeline.handle(Request(
            channel=user.platform, address=user.address, text=row.text, authenticated=True,
            received_at=row.received_at, reference=row.key,
        ))
        if answer.refused == EscalationKind.UNLINKED:
            return Outcome(how_to_link(), user.chat_id, "refused:unlinked")
        if answer.refused:  # wrong workspace, inactive contact: nothing at all
            return Outcome(None, "", f"refused:{answer.refused}")
        link = await ChatLink.get_or_none(platform=user.platform, team_id=user.team_id,
                                          user_id=user.user_id)
        return Outcome(answer.reply, link.chat_id if link else user.chat_id, "answered")


async def prune_chat_state(now: datetime | None = None) -> None:
    """Forget what no longer matters: old deliveries, spent codes and tokens."""
    now = now or utcnow()
    await ChatInbound.filter(state="processed", received_at__lt=now - KEEP_PROCESSED).delete()
    await ChatLinkCode.filter(expires_at__lt=now - timedelta(days=1)).delete()
    await ChatLinkToken.filter(expires_at__lt=now - timedelta(days=1)).delete()
