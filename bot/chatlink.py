"""Linking a chat account to a contact on file. A chat account is nobody until linked.

    "link ap@acme.example"  -> an 8-digit code to that address on file, by email
    "1234 5678"             -> typed in the same chat: linked
    "start <token>"         -> a one-click offer from an email (Telegram deep link)
    "unlink"                -> ends it

The answers never say whether an address is on file: "link x" reads the same for every x,
and a code that is wrong, expired, spent or locked reads the same too. Every link, unlink
and refusal is audited (bot.chat.link.*), never with a code or token. Wrong codes count
against the contact, the chat account and everyone (bot.chatguard).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from bot import chatguard
from bot.chatguard import ChatUser
from bot.messages import Reply
from vault import audit
from vault.clock import Clock
from vault.escalations import CODE_REDACTED
from vault.models import ChatLink, ChatLinkCode, ChatLinkToken, Contact
from vault.vocabulary import Channel

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5  # per code: after five wrong ones, the sixth try fails even if right
MAX_CODES_PER_HOUR = 25  # code emails per contact (the lock usually ends it sooner)
TOKEN_REDACTED = "<token>"
CODE_DIGITS = 8  # 10^8 codes: see bot.chatguard for how few guesses anyone gets

_LINK = re.compile(r"^\s*/?link\s+(\S+@\S+?)\s*[.!]?\s*$", re.IGNORECASE)
_CODE = re.compile(r"^\s*(\d{4})[ -]?(\d{4})\s*$")
_UNLINK = re.compile(r"^\s*/?unlink\s*[.!]?\s*$", re.IGNORECASE)
_START = re.compile(r"^\s*start\s+([A-Za-z0-9_-]{1,64})\s*$")


@dataclass(frozen=True)
class LinkCommand:
    verb: str  # link, code, unlink, start
    argument: str = ""


def link_command(text: str, platform: str) -> LinkCommand | None:
    """The linking command in a chat message, or None for anything else."""
    if match := _LINK.match(text):
        return LinkCommand("link", match[1].strip("<>").lower())
    if match := _CODE.match(text):
        return LinkCommand("code", match[1] + match[2])
    if _UNLINK.match(text):
        return LinkCommand("unlink")
    if platform == Channel.TELEGRAM and (match := _START.match(text)):
        return LinkCommand("start", match[1])
    return None


def stored_text(text: str, platform: str) -> str:
    """What is kept of a chat message once processed: a code or start token typed in it
    is a secret (codes are stored only as an HMAC), so they are replaced."""
    command = link_command(text, platform)
    if command is not None and command.verb == "code":
        return CODE_REDACTED
    if command is not None and command.verb == "start":
        return f"start {TOKEN_REDACTED}"
    return text


def how_to_link() -> Reply:
    return Reply(
        subject="Link this chat",
        intro="This chat is not linked to a contact on file yet, so it cannot get invoices.",
        notes=('Send "link you@company.example" with the address we have on file for you.',
               f"We email that address an {CODE_DIGITS}-digit code; type the code here "
               "within 10 minutes."),
    )


def _code_sent(address: str) -> Reply:
    return Reply(subject="Code sent", intro=(
        f"If {address} is on file, we have emailed it an {CODE_DIGITS}-digit code. Type the "
        "code here within 10 minutes to link this chat."))


def _invalid(what: str = "code") -> Reply:
    return Reply(subject="Not linked", intro=f"That {what} is not valid (or no longer).",
                 outro='Send "link you@company.example" to get a new code by email.')


def _already_linked() -> Reply:
    return Reply(subject="Already linked", intro="This chat is already linked to a contact.",
                 outro='Send "unlink" first to link it to another one.')


def linked_reply(contact: Contact, account_name: str) -> Reply:
    return Reply(subject="Linked", intro=(
        f"Linked: this chat now gets the invoices of {account_name} for {contact.email}."),
        outro='Try "invoices March", "unpaid" or "help". Send "unlink" to end it.')


def code_hash(secret: str, user: ChatUser, code: str) -> str:
    """HMAC of the code, bound to the chat that asked: a stolen table reveals no code."""
    message = f"{user.platform}:{user.team_id}:{user.user_id}:{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Linker:
    def __init__(
        self, guard: chatguard.Guard, secret: str, clock: Clock
    ) -> None:
        self.guard = guard  # locks, failure counting and the emails they send
        self.secret = secret  # keys the code HMAC
        self.clock = clock

    async def run(self, command: LinkCommand, user: ChatUser) -> Reply | None:
        """The answer to a linking command; None means say nothing at all."""
        link = await ChatLink.get_or_none(
            platform=user.platform, team_id=user.team_id, user_id=user.user_id
        ).select_related("contact__account")
        if link is not None and not chatguard.allowed_from(link.contact.account, user):
            await self._refused(user, "wrong_workspace", link.contact)
            return None
        if command.verb == "unlink":
            return await self.unlink(link, user)
        if link is not None:
            return _already_linked()
        if command.verb == "link":
            return await self.request_code(user, command.argument)
        if command.verb == "code":
            return await self.enter_code(user, command.argument)
        return await self.redeem(user, command.argument)

    # ---- codes ----------------------------------------------------------------------------

    async def request_code(self, user: ChatUser, address: str) -> Reply:
        if (paused := await self.guard.paused(user, self.clock.now())) is not None:
            await self._refused(user, "paused")
            return paused
        contact = await Contact.get_or_none(email=address).select_related("account")
        reason = await self.guard.refusal(contact, user, self.clock.now())
        if reason is None and contact is not None:
            since = self.clock.now() - timedelta(hours=1)
            if await ChatLinkCode.filter(contact_id=contact.id, created_at__gte=since).count() \
                    >= MAX_CODES_PER_HOUR:
                reason = "too_many_codes"
        if reason is not None or contact is None:
            await self._refused(user, reason or "unknown_address", contact, address=address)
            return _code_sent(address)
        await self._issue_code(user, contact)
        return _code_sent(address)

    async def _issue_code(self, user: ChatUser, contact: Contact) -> None:
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        now = self.clock.now()
        async with in_transaction():
            await self._open_codes(user).update(closed=True)  # a new code voids older ones
            row = await ChatLinkCode.create(
                contact_id=contact.id, platform=user.platform, team_id=user.team_id,
                user_id=user.user_id, chat_id=user.chat_id,
                code_hash=code_hash(self.secret, user, code), created_at=now,
                expires_at=now + CODE_TTL,
            )
            await self.guard.email_code(contact, code, user.platform, row.id, now)
            await audit.record("bot.chat.link.code_sent", account_id=contact.account_id,
                               contact_id=contact.id, **user.audit())

    def _open_codes(self, user: ChatUser) -> QuerySet[ChatLinkCode]:
        return ChatLinkCode.filter(platform=user.platform, team_id=user.team_id,
                                   user_id=user.user_id, closed=False)

    async def enter_code(self, user: ChatUser, code: str) -> Reply:
        now = self.clock.now()
        if (paused := await self.guard.paused(user, now)) is not None:
            await self._refused(user, "paused")
            return paused
        row = await self._open_codes(user).filter(expires_at__gt=now).order_by("-id").first()
        # Every try is counted before it is checked, in one atomic update: tries racing
        # each other (several instances on PostgreSQL) cannot get past MAX_TRIES together.
        if row is None or not await ChatLinkCode.filter(
            id=row.id, closed=False, tries__lt=MAX_TRIES
        ).update(tries=F("tries") + 1):
            await self._refused(user, "no_code")
            return _invalid()
        contact = await Contact.get(id=row.contact_id).select_related("account")
        right = hmac.compare_digest(code_hash(self.secret, user, code), row.code_hash)
        reason = await self.guard.refusal(contact, user, now)
        if not right or reason is not None:
            await ChatLinkCode.filter(id=row.id, tries__gte=MAX_TRIES).update(closed=True)
            await self.guard.failed(contact, user, now)
            await self._refused(user, reason or "wrong_code", contact)
            return _invalid()
        if not await ChatLinkCode.filter(id=row.id, closed=False).update(closed=True):
            return _invalid()  # a concurrent try used it first
        return (await self.link(user, contact, "code"))[1]

    # ---- one-click tokens -----------------------------------------------------------------

    async def offer(self, contact: Contact, platform: str, ttl: timedelta) -> str:
        """A new random token for a one-click link in an email, good for `ttl` (the
        download links' links.ttl); only its hash is stored."""
        token = secrets.token_urlsafe(24)  # 32 characters of A-Za-z0-9_-
        now = self.clock.now()
        await ChatLinkToken.create(id=token_id(token), contact_id=contact.id, platform=platform,
                                   created_at=now, expires_at=now + ttl)
        return token

    async def redeem(self, user: ChatUser, token: str) -> Reply:
        return (await self.redeem_token(user, token))[1]

    async def redeem_token(self, user: ChatUser, token: str) -> tuple[bool, Reply]:
        """Link by an emailed one-click token (single use, expiring, platform-bound);
        (whether it linked, the answer)."""
        now = self.clock.now()
        row = await ChatLinkToken.get_or_none(id=token_id(token), platform=user.platform,
                                              used_at=None, expires_at__gt=now)
        if row is None:
            await self._refused(user, "bad_token")
            return False, _invalid("link")
        contact = await Contact.get(id=row.contact_id).select_related("account")
        reason = await self.guard.refusal(contact, user, now)
        if reason is not None:
            await self._refused(user, reason, contact)
            return False, _invalid("link")
        if not await ChatLinkToken.filter(id=row.id, used_at=None).update(used_at=now):
            return False, _invalid("link")
        return await self.link(user, contact, "token")

    # ---- link and unlink ------------------------------------------------------------------

    async def link(self, user: ChatUser, contact: Contact, method: str) -> tuple[bool, Reply]:
        """Create the link (needs contact.account); (whether it was created, the answer)."""
        now = self.clock.now()
        try:
            row = await ChatLink.create(contact_id=contact.id, platform=user.platform,
                                        team_id=user.team_id, user_id=user.user_id,
                                        chat_id=user.chat_id, linked_at=now)
        except IntegrityError:  # linked meanwhile, e.g. by a second code in flight
            return False, _already_linked()
        await audit.record("bot.chat.link.linked", account_id=contact.account_id,
                           contact_id=contact.id, method=method, **user.audit())
        await self.guard.email_linked(contact, row, now)
        return True, linked_reply(contact, contact.account.name)

    async def unlink(self, link: ChatLink | None, user: ChatUser) -> Reply:
        if link is None:
            return how_to_link()
        await ChatLink.filter(id=link.id).delete()
        await audit.record("bot.chat.link.unlinked", account_id=link.contact.account_id,
                           contact_id=link.contact_id, **user.audit())
        return Reply(subject="Unlinked", intro="Unlinked: this chat no longer gets invoices.",
                     outro='Send "link you@company.example" to link it again.')

    async def _refused(
        self, user: ChatUser, reason: str, contact: Contact | None = None, **data: Any
    ) -> None:
        await audit.record(
            "bot.chat.link.refused", account_id=contact.account_id if contact else None,
            contact_id=contact.id if contact else None, reason=reason, **user.audit(), **data,
        )
