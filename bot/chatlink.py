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
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from bot import chatguard
from bot.chatguard import ChatUser
from bot.language.detect import written_in
from bot.messages import Reply
from vault import audit, codes
from vault.answer_language import answer_language
from vault.clock import Clock
from vault.escalations import CODE_REDACTED
from vault.i18n import SOURCE_LANGUAGE, Catalogue, catalogue
from vault.models import ChatLink, ChatLinkCode, ChatLinkToken, Contact
from vault.vocabulary import Channel

CODE_TTL = codes.CODE_TTL  # the rules every emailed code follows (vault.codes)
MAX_TRIES = codes.MAX_TRIES
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

    def written_in(self, text: str) -> str | None:
        """The language of the command's own words, never of its argument: an address, a
        code or a start token is no language, and a random token's letters can read as
        a word of any ("en", "y", "is"), which would answer a German contact in French."""
        if not self.argument:
            return written_in(text)
        return written_in(re.sub(re.escape(self.argument), " ", text, flags=re.IGNORECASE))


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


def words(language: str | None) -> Catalogue:
    """The messages catalogue in `language` (None: nothing told us, so English)."""
    return catalogue(language or SOURCE_LANGUAGE, "messages")


def how_to_link(language: str | None = None) -> Reply:
    _ = words(language).gettext
    return Reply(
        subject=_("Link this chat"),
        intro=_("This chat is not linked to a contact on file yet, so it cannot get invoices."),
        notes=(_('Send "link you@company.example" with the address we have on file for you.'),
               _("We email that address a {digits}-digit code; type the code here within "
                 "{minutes} minutes.").format(digits=CODE_DIGITS, minutes=_minutes())),
    )


def _minutes() -> int:
    return int(CODE_TTL.total_seconds() // 60)


def _code_sent(address: str, language: str | None) -> Reply:
    _ = words(language).gettext
    return Reply(subject=_("Code sent"), intro=_(
        "If {address} is on file, we have emailed it a {digits}-digit code. Type the code "
        "here within {minutes} minutes to link this chat.").format(
        address=address, digits=CODE_DIGITS, minutes=_minutes()))


def _invalid(language: str | None, what: str = "code") -> Reply:
    _ = words(language).gettext
    intro = (_("That link is not valid (or no longer).") if what == "link"
             else _("That code is not valid (or no longer)."))
    return Reply(subject=_("Not linked"), intro=intro,
                 outro=_('Send "link you@company.example" to get a new code by email.'))


def _already_linked(language: str | None) -> Reply:
    _ = words(language).gettext
    return Reply(subject=_("Already linked"), intro=_("This chat is already linked to a contact."),
                 outro=_('Send "unlink" first to link it to another one.'))


def linked_reply(contact: Contact, account_name: str, language: str | None = None) -> Reply:
    _ = words(language).gettext
    return Reply(subject=_("Linked"), intro=_(
        "Linked: this chat now gets the invoices of {account} for {address}.").format(
        account=account_name, address=contact.email),
        outro=_('Try "invoices March", "unpaid" or "help". Send "unlink" to end it.'))


def code_hash(secret: str, user: ChatUser, code: str) -> str:
    """HMAC of the code, bound to the chat that asked: a stolen table reveals no code."""
    return codes.code_hash(secret, _bound(user), code)


def _bound(user: ChatUser) -> str:
    return f"{user.platform}:{user.team_id}:{user.user_id}"


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Linker:
    def __init__(
        self, guard: chatguard.Guard, secret: str, clock: Clock
    ) -> None:
        self.guard = guard  # locks, failure counting and the emails they send
        self.secret = secret  # keys the code HMAC
        self.clock = clock

    async def run(self, command: LinkCommand, user: ChatUser,
                  written: str | None = None) -> Reply | None:
        """The answer to a linking command; None means say nothing at all. `written`:
        the language the message was written in (bot.language.detect), if any. Until the
        chat is linked the answers use only that (or English): the contact's own language
        would tell whether an address is on file."""
        link = await ChatLink.get_or_none(
            platform=user.platform, team_id=user.team_id, user_id=user.user_id
        ).select_related("contact__account")
        if link is not None and not chatguard.allowed_from(link.contact.account, user):
            await self._refused(user, "wrong_workspace", link.contact)
            return None
        if command.verb == "unlink":
            return await self.unlink(link, user, written)
        if link is not None:
            return _already_linked(written)
        if command.verb == "link":
            return await self.request_code(user, command.argument, written)
        if command.verb == "code":
            return await self.enter_code(user, command.argument, written)
        return await self.redeem(user, command.argument, written)

    # ---- codes ----------------------------------------------------------------------------

    async def request_code(self, user: ChatUser, address: str,
                           written: str | None = None) -> Reply:
        if (paused := await self.guard.paused(user, self.clock.now(), written)) is not None:
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
            return _code_sent(address, written)
        await self._issue_code(user, contact, written)
        return _code_sent(address, written)

    async def _issue_code(self, user: ChatUser, contact: Contact, written: str | None) -> None:
        code = codes.new_code(CODE_DIGITS)
        now = self.clock.now()
        async with in_transaction():
            await self._open_codes(user).update(closed=True)  # a new code voids older ones
            row = await ChatLinkCode.create(
                contact_id=contact.id, platform=user.platform, team_id=user.team_id,
                user_id=user.user_id, chat_id=user.chat_id,
                code_hash=code_hash(self.secret, user, code), created_at=now,
                expires_at=now + CODE_TTL,
            )
            await self.guard.email_code(contact, code, user.platform, row.id, now,
                                        answer_language(contact, contact.account, written))
            await audit.record("bot.chat.link.code_sent", account_id=contact.account_id,
                               contact_id=contact.id, **user.audit())

    def _open_codes(self, user: ChatUser) -> QuerySet[ChatLinkCode]:
        return ChatLinkCode.filter(platform=user.platform, team_id=user.team_id,
                                   user_id=user.user_id, closed=False)

    async def enter_code(self, user: ChatUser, code: str, written: str | None = None) -> Reply:
        now = self.clock.now()
        if (paused := await self.guard.paused(user, now, written)) is not None:
            await self._refused(user, "paused")
            return paused
        row = await self._open_codes(user).filter(expires_at__gt=now).order_by("-id").first()
        # Every try is counted before it is checked (vault.codes.count_try).
        if row is None or not await codes.count_try(ChatLinkCode, row.id):
            await self._refused(user, "no_code")
            return _invalid(written)
        contact = await Contact.get(id=row.contact_id).select_related("account")
        right = codes.matches(self.secret, _bound(user), code, row.code_hash)
        reason = await self.guard.refusal(contact, user, now)
        if not right or reason is not None:
            await codes.close_if_spent(ChatLinkCode, row.id)
            await self.guard.failed(contact, user, now)
            await self._refused(user, reason or "wrong_code", contact)
            return _invalid(written)
        if not await ChatLinkCode.filter(id=row.id, closed=False).update(closed=True):
            return _invalid(written)  # a concurrent try used it first
        return (await self.link(user, contact, "code", written))[1]

    # ---- one-click tokens -----------------------------------------------------------------

    async def offer(self, contact: Contact, platform: str, ttl: timedelta) -> str:
        """A new random token for a one-click link in an email, good for `ttl` (the
        download links' links.ttl); only its hash is stored."""
        token = secrets.token_urlsafe(24)  # 32 characters of A-Za-z0-9_-
        now = self.clock.now()
        await ChatLinkToken.create(id=token_id(token), contact_id=contact.id, platform=platform,
                                   created_at=now, expires_at=now + ttl)
        return token

    async def redeem(self, user: ChatUser, token: str, written: str | None = None) -> Reply:
        return (await self.redeem_token(user, token, written))[1]

    async def redeem_token(self, user: ChatUser, token: str,
                           written: str | None = None) -> tuple[bool, Reply]:
        """Link by an emailed one-click token (single use, expiring, platform-bound);
        (whether it linked, the answer)."""
        now = self.clock.now()
        row = await ChatLinkToken.get_or_none(id=token_id(token), platform=user.platform,
                                              used_at=None, expires_at__gt=now)
        if row is None:
            await self._refused(user, "bad_token")
            return False, _invalid(written, "link")
        contact = await Contact.get(id=row.contact_id).select_related("account")
        reason = await self.guard.refusal(contact, user, now)
        if reason is not None:
            await self._refused(user, reason, contact)
            return False, _invalid(written, "link")
        if not await ChatLinkToken.filter(id=row.id, used_at=None).update(used_at=now):
            return False, _invalid(written, "link")
        return await self.link(user, contact, "token", written)

    # ---- link and unlink ------------------------------------------------------------------

    async def link(self, user: ChatUser, contact: Contact, method: str,
                   written: str | None = None) -> tuple[bool, Reply]:
        """Create the link (needs contact.account); (whether it was created, the answer).
        Once linked, the contact's language rule (vault.answer_language) says the words."""
        now = self.clock.now()
        try:
            row = await ChatLink.create(contact_id=contact.id, platform=user.platform,
                                        team_id=user.team_id, user_id=user.user_id,
                                        chat_id=user.chat_id, linked_at=now)
        except IntegrityError:  # linked meanwhile, e.g. by a second code in flight
            return False, _already_linked(written)
        await audit.record("bot.chat.link.linked", account_id=contact.account_id,
                           contact_id=contact.id, method=method, **user.audit())
        language = answer_language(contact, contact.account, written)
        await self.guard.email_linked(contact, row, now, language)
        return True, linked_reply(contact, contact.account.name, language)

    async def unlink(self, link: ChatLink | None, user: ChatUser,
                     written: str | None = None) -> Reply:
        if link is None:
            return how_to_link(written)
        await ChatLink.filter(id=link.id).delete()
        await audit.record("bot.chat.link.unlinked", account_id=link.contact.account_id,
                           contact_id=link.contact_id, **user.audit())
        _ = words(answer_language(link.contact, link.contact.account, written)).gettext
        return Reply(subject=_("Unlinked"), intro=_("Unlinked: this chat no longer gets invoices."),
                     outro=_('Send "link you@company.example" to link it again.'))

    async def _refused(
        self, user: ChatUser, reason: str, contact: Contact | None = None, **data: Any
    ) -> None:
        await audit.record(
            "bot.chat.link.refused", account_id=contact.account_id if contact else None,
            contact_id=contact.id if contact else None, reason=reason, **user.audit(), **data,
        )
