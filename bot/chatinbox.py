"""The chat channels after the acknowledgement: a stored message becomes a queued answer.

Slack and Telegram handlers only translate a delivery into a ChatMessage and call
`receive`, which stores it under the delivery's id before the platform gets its ack
(deliveries arriving together share one commit): a retry or a replayed delivery finds
the row and changes nothing, and a crash after the ack loses nothing. Processing runs
off the request, in bot.inbound (the state machine every channel shares: queue,
attempts, set-aside); what is chat's own is here: linking commands go to the Linker,
everything else to the one pipeline, and the answer is queued in the outbox in the same
transaction that marks the row processed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.chatguard import ChatUser
from bot.chatlink import Linker, how_to_link, link_command, stored_text
from bot.inbound import InboundQueue, Origin
from bot.language.detect import written_in
from bot.messages import Reply, Request, printable
from bot.outgoing import reply_message
from bot.pipeline import Pipeline
from notifier import outbox
from vault.clock import Clock
from vault.group_commit import GroupCommit
from vault.models import ChatInbound, ChatLink, ChatLinkCode, ChatLinkToken
from vault.vocabulary import Channel, EscalationKind, InboundState, OutboxKind

log = logging.getLogger(__name__)

KEEP_PROCESSED = timedelta(days=7)  # longer than any platform retries a delivery


@dataclass(frozen=True)
class ChatMessage:
    """One delivery from a chat platform, translated: who, where, what."""

    key: str  # unique per delivery: slack:<event_id>, telegram:<update_id>
    user: ChatUser
    text: str
    received_at: datetime


@dataclass(frozen=True)
class ChatAnswer:
    reply: Reply | None  # None: say nothing
    recipient: str
    label: str  # what happened, stored on the row
    contact_id: int | None = None  # whose answer it is, when it is a contact's


class ChatInbox:
    def __init__(self, pipeline: Pipeline, linker: Linker,
                 wake_delivery: Callable[[], None]) -> None:
        self.pipeline = pipeline
        self.linker = linker
        self.wake_delivery = wake_delivery
        self.queue = InboundQueue(ChatInbound, self.handle, self.origin, pipeline.clock)
        self.stored = GroupCommit(ChatInbound, store_deliveries)

    async def receive(self, message: ChatMessage) -> bool:
        """Store a delivery once; False for a retry or replay of one already stored.

        Call before acknowledging it to the platform; the work happens later, in the queue.
        Deliveries arriving together share one commit (vault.group_commit).
        """
        try:
            row_id = await self.stored.submit(message)
        except IntegrityError:  # stored at once by another instance
            row_id = None
        if row_id is None:
            log.info("chat delivery %s already received; ignored", message.key)
            return False
        self.queue.put(row_id)
        return True

    async def origin(self, row: ChatInbound) -> Origin:
        """For AR: the chat account, and its contact when it is linked."""
        link = await ChatLink.get_or_none(platform=row.platform, team_id=row.team_id,
                                          user_id=row.user_id)
        user = ChatUser(row.platform, row.team_id, row.user_id, row.chat_id)
        return Origin(Channel(row.platform), row.key, user.address,
                      link.contact_id if link else None)

    async def handle(self, row: ChatInbound) -> str:
        user = ChatUser(row.platform, row.team_id, row.user_id, row.chat_id)
        outcome = await self._answer(row, user)
        async with in_transaction():
            if outcome.reply is not None and outcome.reply.deliver:
                await outbox.enqueue(reply_message(
                    outcome.reply, key=f"chat-reply:{row.key}", channel=row.platform,
                    kind=OutboxKind.REPLY, recipient=outcome.recipient,
                    contact_id=outcome.contact_id),
                    now=self.pipeline.clock.now(), request_received_at=row.received_at)
            if await self.queue.mark_processed(row.id, outcome.label) and \
                    (kept := stored_text(row.text, user.platform)) != row.text:
                await ChatInbound.filter(id=row.id).update(text=kept)
        self.wake_delivery()
        return outcome.label

    async def _answer(self, row: ChatInbound, user: ChatUser) -> ChatAnswer:
        command = link_command(row.text, user.platform)
        if command is not None:
            reply = await self.linker.run(command, user, command.written_in(row.text))
            return ChatAnswer(reply, user.chat_id, f"link:{command.verb}")
        answer = await self.pipeline.handle(Request(
            channel=user.platform, address=user.address, text=row.text, authenticated=True,
            received_at=row.received_at, reference=row.key,
        ))
        if answer.refused == EscalationKind.UNLINKED:
            return ChatAnswer(how_to_link(written_in(row.text)), user.chat_id,
                              "refused:unlinked")
        if answer.refused:  # wrong workspace, inactive contact: nothing at all
            return ChatAnswer(None, "", f"refused:{answer.refused}")
        link = await ChatLink.get_or_none(platform=user.platform, team_id=user.team_id,
                                          user_id=user.user_id)
        return ChatAnswer(answer.reply, link.chat_id if link else user.chat_id, "answered",
                       answer.contact_id)


async def store_deliveries(messages: list[ChatMessage]) -> list[int | None]:
    """Within the caller's transaction: each delivery's new row id, or None for a key
    already stored (a platform's retry), also earlier in the same list."""
    known = {str(key) for key in await ChatInbound.filter(
        key__in={m.key for m in messages}).values_list("key", flat=True)}
    ids: list[int | None] = []
    for message in messages:
        if message.key in known:
            ids.append(None)
            continue
        user = message.user
        row = await ChatInbound.create(
            key=message.key, platform=user.platform, team_id=user.team_id,
            user_id=user.user_id, chat_id=user.chat_id, text=printable(message.text)[:4000],
            received_at=message.received_at,
        )
        known.add(message.key)
        ids.append(row.id)
    return ids


async def prune_chat_state(clock: Clock) -> None:
    """Forget what no longer matters: old deliveries, spent codes and tokens; redact the
    codes and start tokens kept in deliveries set aside for AR."""
    now = clock.now()
    await redact_set_aside()
    await ChatInbound.filter(state="processed", received_at__lt=now - KEEP_PROCESSED).delete()
    await ChatLinkCode.filter(expires_at__lt=now - timedelta(days=1)).delete()
    await ChatLinkToken.filter(expires_at__lt=now - timedelta(days=1)).delete()


async def redact_set_aside() -> int:
    """Deliveries set aside after failed tries (state failed) are never tried again, so a
    code or start token typed in them is of no more use to us: redact it as a processed
    delivery's is (bot.chatlink.stored_text). How many rows changed."""
    changed = 0
    for row in await ChatInbound.filter(state=InboundState.FAILED).only("id", "text", "platform"):
        if (kept := stored_text(row.text, row.platform)) != row.text:
            changed += await ChatInbound.filter(id=row.id, state=InboundState.FAILED) \
                .update(text=kept)
    return changed
