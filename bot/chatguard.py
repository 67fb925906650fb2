"""What protects chat linking: who may link, the brute-force limits, and the emails sent.

Every wrong code counts three ways, so that guessing cannot be ground down:
- against the contact it was for: LOCK_AFTER within WINDOW lock linking to that contact for
  LOCK_FOR (a burst), and BUDGET in total (NIST SP 800-63B 5.2.2) lock it until a person
  runs `invoicebot chat unlock --contact EMAIL`; the lock holds whatever is typed, even the
  right code, and the contact is told by email once per lock;
- against the chat account that typed it, across all contacts: ACCOUNT_LIMIT within
  ACCOUNT_WINDOW pause linking for that account;
- against everyone: GLOBAL_LIMIT within GLOBAL_WINDOW pause linking for all.
The pauses say so plainly (they reveal nothing about any contact) and AR hears of each.
With 8-digit codes one account gets ACCOUNT_LIMIT guesses a day, each with a chance of 1
in 10^8.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import F

from bot.chatunlink import UNLINK_TTL
from bot.identity import chat_address, workspace_allowed
from bot.messages import Link, Reply
from bot.outgoing import reply_message
from notifier import outbox
from notifier.message import mail_from
from vault import audit
from vault.answer_language import answer_language
from vault.codes import CODE_TTL
from vault.config import EmailConfig
from vault.escalations import escalate
from vault.i18n import SOURCE_LANGUAGE, Catalogue, catalogue
from vault.models import (
    Account,
    ChatLink,
    ChatLinkBudget,
    ChatLinkCode,
    ChatLinkFailure,
    ChatLinkLock,
    Contact,
)
from vault.vocabulary import Channel, EscalationKind, OutboxKind

LOCK_AFTER = 20  # failures per contact within WINDOW: a burst, locked for LOCK_FOR
WINDOW = timedelta(hours=1)
LOCK_FOR = timedelta(hours=24)
BUDGET = 100  # failures per contact in total: locked until a person unlocks it
ACCOUNT_LIMIT = 20  # failures by one chat account within ACCOUNT_WINDOW, any contacts
ACCOUNT_WINDOW = timedelta(hours=24)
GLOBAL_LIMIT = 200  # failures by all chat accounts together within GLOBAL_WINDOW
GLOBAL_WINDOW = timedelta(hours=1)
KEEP_FAILURES = max(WINDOW, ACCOUNT_WINDOW, GLOBAL_WINDOW)


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
    def __init__(self, email: EmailConfig,
                 unlink_url: Callable[[ChatLink], str] | None = None) -> None:
        self.email = email  # who our emails are from
        self.unlink_url = unlink_url  # the one-click unlink in "chat linked" (bot.chatunlink)

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
        if await ChatLinkBudget.filter(contact_id=contact.id, exhausted_at__not_isnull=True
                                       ).exists():
            return "budget_exhausted"
        return None

    async def paused(self, user: ChatUser, now: datetime,
                     language: str | None = None) -> Reply | None:
        """The answer when linking is paused for this chat account or for everyone (too
        many wrong codes), or None. It names no contact, so it may say why; in the
        language the message was written in (`language`), else English."""
        _ = _words(language).gettext
        if await ChatLinkFailure.filter(at__gte=now - GLOBAL_WINDOW).count() >= GLOBAL_LIMIT:
            return Reply(subject=_("Linking paused"), intro=_(
                "Linking chats is paused for everyone for a while: too many wrong codes were "
                "typed in the last hour."), outro=_("Please try again in an hour."))
        if await ChatLinkFailure.filter(chat_address=user.address,
                                        at__gte=now - ACCOUNT_WINDOW).count() >= ACCOUNT_LIMIT:
            # ACCOUNT_LIMIT is a constant well over one: always the plural sentence.
            return Reply(subject=_("Linking paused"), intro=_(
                "This chat account typed {count} wrong codes within a day, so it cannot link "
                "for now.").format(count=ACCOUNT_LIMIT), outro=_("Please try again tomorrow."))
        return None

    async def failed(self, contact: Contact, user: ChatUser, now: datetime) -> None:
        """Count one failure against the contact, the chat account and everyone; lock or
        pause what reaches its limit."""
        await ChatLinkFailure.filter(at__lt=now - KEEP_FAILURES).delete()  # keeps it small
        await ChatLinkFailure.create(contact_id=contact.id, at=now, chat_address=user.address)
        await ChatLinkBudget.get_or_create(contact_id=contact.id)
        await ChatLinkBudget.filter(contact_id=contact.id).update(failures=F("failures") + 1)
        budget = await ChatLinkBudget.get(contact_id=contact.id)
        if budget.failures >= BUDGET and budget.exhausted_at is None:
            await self._exhaust(contact, now)
        else:
            recent = await ChatLinkFailure.filter(contact_id=contact.id,
                                                  at__gte=now - WINDOW).count()
            if recent >= LOCK_AFTER and budget.exhausted_at is None and not \
                    await ChatLinkLock.filter(contact_id=contact.id, until__gt=now).exists():
                await self._lock(contact, now)
        await self._limits_reached(user, now)

    async def _limits_reached(self, user: ChatUser, now: datetime) -> None:
        """AR hears once per window when a chat account or everyone hits the limit."""
        mine = await ChatLinkFailure.filter(chat_address=user.address,
                                            at__gte=now - ACCOUNT_WINDOW).count()
        if mine == ACCOUNT_LIMIT:
            await audit.record("bot.chat.link.paused", scope="chat_account", **user.audit())
            await escalate(EscalationKind.LINK_LIMITED,
                           f"chat-link-limit:{user.address}:{now:%Y-%m-%dT%H}", at=now,
                           address=user.address,
                           summary=f"{ACCOUNT_LIMIT} wrong chat-link codes within "
                                   f"{ACCOUNT_WINDOW.total_seconds() / 3600:g} hours from "
                                   f"{user.address} (any contacts); linking paused for it")
        everyone = await ChatLinkFailure.filter(at__gte=now - GLOBAL_WINDOW).count()
        if everyone == GLOBAL_LIMIT:
            await audit.record("bot.chat.link.paused", scope="global")
            await escalate(EscalationKind.LINK_LIMITED,
                           f"chat-link-limit:global:{now:%Y-%m-%dT%H:%M}", at=now,
                           summary=f"{GLOBAL_LIMIT} wrong chat-link codes within an hour from "
                                   "all chat accounts; linking paused for everyone")

    async def _exhaust(self, contact: Contact, now: datetime) -> None:
        await ChatLinkBudget.filter(contact_id=contact.id).update(exhausted_at=now)
        await ChatLinkCode.filter(contact_id=contact.id, closed=False).update(closed=True)
        await audit.record("bot.chat.link.locked", account_id=contact.account_id,
                           contact_id=contact.id, failures=BUDGET, until="unlocked")
        await escalate(EscalationKind.LINK_LOCKED,
                       f"chat-link-exhausted:{contact.id}:{now.isoformat()}", at=now,
                       account_id=contact.account_id, contact_id=contact.id,
                       address=contact.email,
                       summary=f"{BUDGET} wrong chat-link codes in total; linking locked "
                               "until `invoicebot chat unlock --contact "
                               f"{contact.email}`")
        _ = _words(await _language(contact)).gettext
        reply = Reply(
            subject=_("Chat linking locked for your address"),
            intro=_("Wrong codes were typed {count} times in total while trying to link a "
                    "chat account to your address. To protect your invoices, linking chats "
                    "to your address is locked until our accounts receivable team unlocks "
                    "it.").format(count=BUDGET),
            outro=_("Nothing was linked. Please tell your contact at our accounts receivable "
                    "team whether it was you."),
        )
        await self._mail(contact, reply, f"chat-link-exhausted:{contact.id}:{now.isoformat()}",
                         OutboxKind.LINK_LOCKED, now)

    async def unlock(self, contact: Contact, now: datetime) -> bool:
        """End every lock on linking to this contact and reset its budget (a person
        decided); whether there was anything to unlock."""
        locks = await ChatLinkLock.filter(contact_id=contact.id, until__gt=now).count()
        await ChatLinkLock.filter(contact_id=contact.id).delete()
        spent = await ChatLinkBudget.filter(contact_id=contact.id).first()
        await ChatLinkBudget.filter(contact_id=contact.id).delete()
        await ChatLinkFailure.filter(contact_id=contact.id).delete()
        was = bool(locks) or (spent is not None and spent.failures > 0)
        await audit.record("bot.chat.link.unlocked", account_id=contact.account_id,
                           contact_id=contact.id, was_locked=was,
                           failures=spent.failures if spent else 0)
        return was

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
        _ = _words(await _language(contact)).gettext
        reply = Reply(
            subject=_("Chat linking locked for your address"),
            intro=_("Someone typed wrong codes {count} times within an hour while trying to "
                    "link a chat account to your address. To protect your invoices, linking "
                    "chats to your address is locked for {hours} hours.").format(
                count=LOCK_AFTER, hours=f"{LOCK_FOR.total_seconds() / 3600:g}"),
            outro=_("Nothing was linked. If this was not you, please tell your contact at our "
                    "accounts receivable team."),
        )
        await self._mail(contact, reply, f"chat-link-locked:{contact.id}:{now.isoformat()}",
                         OutboxKind.LINK_LOCKED, now)

    async def email_linked(self, contact: Contact, link: ChatLink, now: datetime,
                           language: str | None = None) -> None:
        """Tell the contact a chat was linked to their address, with a one-click unlink:
        whoever linked it without them is cut off at once. `language`: the contact's
        answer language (vault.answer_language)."""
        _ = _words(language).gettext
        where = Channel(link.platform).label  # Slack, Telegram: names, not words
        links: tuple[Link, ...] = ()
        if self.unlink_url is not None:
            links = (Link(_("Unlink this {chat} account").format(chat=where),
                          self.unlink_url(link), now + UNLINK_TTL),)
        reply = Reply(
            subject=_("A {chat} account was linked to your address").format(chat=where),
            intro=_("A {chat} account (user id {user_id}) was linked to {address}: it can now "
                    "ask for your company's invoices and get them there.").format(
                chat=where, user_id=link.user_id, address=contact.email),
            links=links,
            outro=_('If that was you, nothing to do. If not, unlink it with the link above (or '
                    'write "unlink" in that chat) and tell your contact at our accounts '
                    'receivable team.'),
        )
        await self._mail(contact, reply, f"chat-linked:{link.id}:{now.isoformat()}",
                         OutboxKind.LINK_LINKED, now)

    async def email_code(self, contact: Contact, code: str, platform: str, code_id: int,
                         now: datetime, language: str | None = None) -> None:
        _ = _words(language).gettext
        reply = Reply(
            subject=_("Your code to link a chat"),
            intro=_("Your code is {code}. Type it in the {chat} chat where you asked for it, "
                    "within {minutes} minutes.").format(
                code=code, chat=Channel(platform).label,
                minutes=int(CODE_TTL.total_seconds() // 60)),
            outro=_("If you did not ask for it, ignore this email: nothing is linked without "
                    "the code."),
        )
        await self._mail(contact, reply, f"chat-link-code:{code_id}", OutboxKind.LINK_CODE, now)

    async def _mail(self, contact: Contact, reply: Reply, key: str, kind: OutboxKind,
                    now: datetime) -> None:
        # Auto-Submitted: auto-generated (RFC 3834): not a reply, still a robot.
        await outbox.enqueue(reply_message(
            reply, key=key, channel=Channel.EMAIL, kind=kind, recipient=contact.email,
            contact_id=contact.id, mail=mail_from(self.email)), now=now)


def _words(language: str | None) -> Catalogue:
    """The messages catalogue in `language`; English when nothing told us one."""
    return catalogue(language or SOURCE_LANGUAGE, "messages")


async def _language(contact: Contact) -> str:
    """The contact's answer language (vault.answer_language), for the lock emails."""
    account = await Account.get(id=contact.account_id)
    return answer_language(contact, account)
