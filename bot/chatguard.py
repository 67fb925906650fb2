"""What protects chat linking: who may link, the brute-force lock, and the emails it sends.

Every wrong code counts against the contact it was for. LOCK_AFTER failures within an hour
lock linking for that contact for LOCK_FOR, whatever is typed (even the right code), and
tell the contact by email once per lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.identity import chat_address, workspace_allowed
from bot.messages import Reply
from bot.outgoing import reply_message
from notifier import outbox
from notifier.message import mail_from
from vault import audit
from vault.config import EmailConfig
from vault.escalations import escalate
from vault.models import (
    Account,
    ChatLinkCode,
    ChatLinkFailure,
    ChatLinkLock,
    Contact,
)
from vault.vocabulary import Channel, EscalationKind, OutboxKind

LOCK_AFTER = 100  # failures per contact within WINDOW
WINDOW = timedelta(hours=1)
LOCK_FOR = timedelta(hours=24)


@dataclass(frozen=True)
class ChatUser:
    """A chat account as the platform vouched for it, and where to answer it."""

    platform: str  # slack, telegram
    team_id: str  # Slack workspace of the user; "" on Telegram
    user_id: str
    chat_id: str  # Slack DM channel (or user id), Telegram chat id

    @property
    def address(self) -> str:
        return chat_address(self.platform, self.team_id, self.user_id)

    def audit(self) -> dict[str, Any]:
        """The account in audit rows: platform ids only, never message text."""
        return {"platform": self.platform, "team_id": self.team_id, "user_id": self.user_id}


def allowed_from(account: Account, user: ChatUser) -> bool:
    return workspace_allowed(account.slack_team_id, user.platform, user.team_id)


class Guard:
    def __init__(self, email: EmailConfig) -> None:
        self.email = email  # who our emails are from

    async def refusal(self, contact: Contact | None, user: ChatUser, now: datetime) -> str | None:
        """Why this chat may not link to this contact now, or None. Needs contact.account."""
        if contact is None:
            return "unknown_address"
        if not contact.active:
            return "inactive_contact"
        if not allowed_from(contact.account, user):
            return "wrong_workspace"
        if await ChatLinkLock.filter(contact_id=contact.id, until__gt=now).exists():
            return "locked"
        return None

    async def failed(self, contact: Contact, now: datetime) -> None:
        """Count one failure; the LOCK_AFTER-th within WINDOW locks linking."""
        await ChatLinkFailure.filter(at__lt=now - WINDOW).delete()  # keeps the table small
        await ChatLinkFailure.create(contact_id=contact.id, at=now)
        recent = await ChatLinkFailure.filter(contact_id=contact.id, at__gte=now - WINDOW).count()
        if recent >= LOCK_AFTER and not await ChatLinkLock.filter(
            contact_id=contact.id, until__gt=now
        ).exists():
            await self._lock(contact, now)

    async def _lock(self, contact: Contact, now: datetime) -> None:
        await ChatLinkLock.update_or_create(
            contact_id=contact.id, defaults={"locked_at": now, "until": now + LOCK_FOR}
        )
        await ChatLinkCode.filter(contact_id=contact.id, closed=False).update(closed=True)
        await audit.record("bot.chat.link.locked", account_id=contact.account_id,
                           contact_id=contact.id, failures=LOCK_AFTER,
                           hours=int(LOCK_FOR.total_seconds() // 3600))
        # AR hears of it in the morning digest: someone may be trying to take over a contact.
        await escalate(EscalationKind.LINK_LOCKED,
                       f"chat-link-locked:{contact.id}:{now.isoformat()}", at=now,
                       account_id=contact.account_id, contact_id=contact.id,
                       address=contact.email,
                       summary=f"{LOCK_AFTER} wrong chat-link codes within an hour; "
                               "linking locked")
        reply = Reply(
            subject="Chat linking locked for your address",
            intro=(f"Someone typed wrong codes {LOCK_AFTER} times within an hour while trying "
                   "to link a chat account to your address. To protect your invoices, linking "
                   f"chats to your address is locked for {LOCK_FOR.total_seconds() / 3600:g} "
                   "hours."),
            outro="Nothing was linked. If this was not you, please tell your contact at our "
                  "accounts receivable team.",
        )
        await self._mail(contact, reply, f"chat-link-locked:{contact.id}:{now.isoformat()}",
                         OutboxKind.LINK_LOCKED, now)

    async def email_code(self, contact: Contact, code: str, platform: str, code_id: int,
                         now: datetime) -> None:
        where = Channel(platform).label
        reply = Reply(
            subject="Your code to link a chat",
            intro=f"Your code is {code}. Type it in the {where} chat where you asked for it, "
                  "within 10 minutes.",
            outro="If you did not ask for it, ignore this email: nothing is linked without "
                  "the code.",
        )
        await self._mail(contact, reply, f"chat-link-code:{code_id}", OutboxKind.LINK_CODE, now)

    async def _mail(self, contact: Contact, reply: Reply, key: str, kind: OutboxKind,
                    now: datetime) -> None:
        # Auto-Submitted: auto-generated (RFC 3834): not a reply, still a robot.
        await outbox.enqueue(reply_message(
            reply, key=key, channel=Channel.EMAIL, kind=kind, recipient=contact.email,
            contact_id=contact.id, mail=mail_from(self.email)), now=now)
