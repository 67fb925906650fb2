"""Step-up: a code to the contact's address on file before documents leave the page.

access.step_up (or the account's `step_up`, or its tier's) says when: `never`,
`downloads` (before a session's first document) or `session` (before any page). An open
access watch (vault.access_watch) makes it at least `downloads` for that contact, and
then only a code typed after the watch was raised counts.

Codes follow the rules of every emailed code (vault.codes: HMAC bound to the session,
10 minutes, 5 tries, the sixth try fails even if right); 6 digits, as the page asks.
Wrong codes are counted per contact: LOCK_AFTER within LOCK_WINDOW refuse every code,
the right one too, until the window has passed; access.watch_refused_codes within a day
make the contact an AR item. A browser that passed may be remembered for
access.remember_device by a signed cookie bound to the contact (`device_token`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from vault import access_watch, audit, codes
from vault.config_access import StepUpRules
from vault.links import LinkSigner
from vault.models import AccessWatch, Account, AccountSession, Contact, StepUpCode, StepUpFailure
from vault.vocabulary import StepUp

CODE_DIGITS = 6
LOCK_AFTER = 100  # wrong codes per contact within LOCK_WINDOW: every code refused
LOCK_WINDOW = timedelta(hours=1)
MAX_CODES_PER_HOUR = 25  # code emails per contact, as for chat linking
DEVICE_SALT = "invoicebot.account.device"
KEEP_FAILURES = timedelta(days=1)  # the longest window that counts them


@dataclass(frozen=True)
class StepUpState:
    """What step-up asks of one session now."""

    level: StepUp
    passed: bool  # a code typed in this session, or a remembered browser, that counts
    watch: AccessWatch | None = None

    @property
    def documents_need_code(self) -> bool:
        return self.level.rank >= StepUp.DOWNLOADS.rank and not self.passed

    @property
    def pages_need_code(self) -> bool:
        return self.level == StepUp.SESSION and not self.passed


async def state(session: AccountSession, contact: Contact, account: Account,
                rules: StepUpRules, device_at: datetime | None, now: datetime) -> StepUpState:
    level = rules.level(account.step_up, account.tier)
    watch = await access_watch.active(contact.id, now, rules.watch)
    if watch is not None and level.rank < StepUp.DOWNLOADS.rank:
        level = StepUp.DOWNLOADS
    since = watch.raised_at if watch is not None else None
    passes = [t for t in (session.stepped_up_at, device_at) if t is not None]
    passed = any(since is None or t >= since for t in passes)
    return StepUpState(level, passed, watch)


async def required_for(contact: Contact, account: Account, rules: StepUpRules,
                       now: datetime) -> bool:
    """Whether this contact's documents go through the page (a code) at all."""
    level = rules.level(account.step_up, account.tier)
    return level != StepUp.NEVER or await access_watch.active(contact.id, now,
                                                              rules.watch) is not None


def _bound(session: AccountSession) -> str:
    return f"account-session:{session.id}"


async def locked(contact: Contact, now: datetime) -> bool:
    return await StepUpFailure.filter(contact_id=contact.id,
                                      at__gt=now - LOCK_WINDOW).count() >= LOCK_AFTER


async def new_code(session: AccountSession, contact: Contact, secret: str,
                   now: datetime) -> tuple[StepUpCode, str] | None:
    """A fresh code for this session (older ones void), or None while codes are locked
    or the contact had MAX_CODES_PER_HOUR already. The caller mails it."""
    if await locked(contact, now) or await StepUpCode.filter(
            contact_id=contact.id, created_at__gt=now - timedelta(hours=1)
    ).count() >= MAX_CODES_PER_HOUR:
        await audit.record("vault.account.step_up_refused", account_id=contact.account_id,
                           contact_id=contact.id, reason="no_code_sent")
        return None
    code = codes.new_code(CODE_DIGITS)
    async with in_transaction():
        await StepUpCode.filter(session_id=session.id, closed=False).update(closed=True)
        row = await StepUpCode.create(
            contact_id=contact.id, session_id=session.id, created_at=now,
            code_hash=codes.code_hash(secret, _bound(session), code),
            expires_at=now + codes.CODE_TTL)
    await audit.record("vault.account.step_up_code_sent", account_id=contact.account_id,
                       contact_id=contact.id)
    return row, code


async def enter_code(session: AccountSession, contact: Contact, code: str, secret: str,
                     now: datetime, rules: StepUpRules) -> bool:
    """Whether the typed code passes step-up for this session. Every try counts before
    it is checked; a wrong one counts against the contact (lock, access watch)."""
    row = await StepUpCode.filter(session_id=session.id, closed=False,
                                  expires_at__gt=now).order_by("-id").first()
    if row is None or not await codes.count_try(StepUpCode, row.id):
        await _failed(contact, now, rules, "no_code")
        return False
    right = codes.matches(secret, _bound(session), code.strip(), row.code_hash)
    if not right or await locked(contact, now):
        await codes.close_if_spent(StepUpCode, row.id)
        await _failed(contact, now, rules, "wrong_code" if not right else "locked")
        return False
    if not await StepUpCode.filter(id=row.id, closed=False).update(closed=True):
        await _failed(contact, now, rules, "no_code")  # a concurrent try used it first
        return False
    await AccountSession.filter(id=session.id).update(stepped_up_at=now)
    session.stepped_up_at = now
    await audit.record("vault.account.step_up_passed", account_id=contact.account_id,
                       contact_id=contact.id)
    return True


async def _failed(contact: Contact, now: datetime, rules: StepUpRules, reason: str) -> None:
    await StepUpFailure.filter(contact_id=contact.id, at__lt=now - KEEP_FAILURES).delete()
    await StepUpFailure.create(contact_id=contact.id, at=now)
    await audit.record("vault.account.step_up_refused", account_id=contact.account_id,
                       contact_id=contact.id, reason=reason)
    await access_watch.refused_codes(contact, now, rules.watch)


# ---- remembered browsers --------------------------------------------------------------------

def device_token(signer: LinkSigner, contact: Contact, now: datetime) -> str:
    """The cookie value for a browser that passed: the contact and when, signed (salt
    DEVICE_SALT); a random part so two browsers' cookies differ."""
    return signer.sign(f"{contact.id}:{int(now.timestamp())}:{secrets.token_urlsafe(8)}")


def device_passed_at(signer: LinkSigner, token: str, contact: Contact, rules: StepUpRules,
                     now: datetime) -> datetime | None:
    """When this browser passed step-up for this contact, if it is still remembered (the
    service's clock decides, not the cookie's own expiry)."""
    value = signer.unsign(token) if token else None
    parts = value.split(":") if value else []
    if len(parts) != 3 or parts[0] != str(contact.id) or not parts[1].isdigit():
        return None
    at = datetime.fromtimestamp(int(parts[1]), UTC)
    return at if at <= now < at + rules.remember_device else None
