"""The account page's links and sessions.

An account link is `{public_url}/a/{token}`: the token signs a Grant row's id (with its
own salt, so it never opens a download and a download token never opens an account), so
it expires with links.ttl and can be revoked like a download link. POSTing its page
starts a session: a row here, and a cookie holding a random secret whose SHA-256 is the
row's id. A link starts one session only (grant_id is unique). Every request re-checks
the row: idle and absolute lifetime, sign-out, and the contact still active.

`may_fetch_documents` is the one place that decides whether a session may get a
document now, step-up (vault.stepup: a code before documents leave) included.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from vault import audit
from vault.links import LinkSigner
from vault.models import AccountSession, Contact, Grant
from vault.stepup import StepUpState

ACCOUNT_SALT = "invoicebot.account"  # the link in mails: /a/{token}
SESSION_SALT = "invoicebot.account.session"  # the cookie
OPEN_SALT = "invoicebot.account.open"  # the form that opens a link's session
ACCOUNT_PREFIX = "/a/"
ACCOUNT_LABEL = "account"


@dataclass(frozen=True)
class SessionRules:
    idle: timedelta
    longest: timedelta


async def account_grant(contact: Contact, ttl: timedelta, now: datetime) -> Grant:
    """A grant for the contact's account page (no documents: the page reads them live)."""
    row = await Grant.create(id=secrets.token_urlsafe(16), contact_id=contact.id,
                             document_ids=[], label=ACCOUNT_LABEL, created_at=now,
                             expires_at=now + ttl)
    await audit.record("vault.account.link_granted", account_id=contact.account_id,
                       contact_id=contact.id, grant=row.id)
    return row


def account_url(public_url: str, signer: LinkSigner, grant: Grant) -> str:
    return f"{public_url.rstrip('/')}{ACCOUNT_PREFIX}{signer.sign(grant.id)}"


async def account_link(contact: Contact, public_url: str, signer: LinkSigner,
                       ttl: timedelta, now: datetime) -> str:
    """A fresh "Open your account" URL for the contact."""
    return account_url(public_url, signer, await account_grant(contact, ttl, now))


def _hashed(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


async def start(grant: Grant, contact: Contact, now: datetime, ip: str, user_agent: str,
                document_link: bool = False) -> tuple[AccountSession, str] | None:
    """A new session for this link and the cookie secret, or None if the link already
    started one (single use: another browser must ask for a fresh link). A download
    link (`document_link`) starts one too when its contact's documents go through the
    page (step-up, vault.stepup)."""
    if (grant.label != ACCOUNT_LABEL and not document_link) \
            or await AccountSession.exists(grant_id=grant.id):
        return None
    secret = secrets.token_urlsafe(32)
    try:
        row = await AccountSession.create(
            id=_hashed(secret), contact_id=contact.id, grant_id=grant.id,
            csrf=secrets.token_urlsafe(24), created_at=now, last_seen_at=now,
            ip=ip[:64], user_agent=user_agent[:500])
    except IntegrityError:  # another POST of the same link won the race
        return None
    await audit.record("vault.account.session_started", account_id=contact.account_id,
                       contact_id=contact.id, grant=grant.id, ip=ip, user_agent=user_agent)
    return row, secret


async def current(secret: str, rules: SessionRules, now: datetime
                  ) -> tuple[AccountSession, Contact] | None:
    """The live session for a cookie's secret, touched now; None if it has ended, idled
    out, outlived session_max, or its contact is no longer active."""
    row = await AccountSession.get_or_none(id=_hashed(secret))
    if row is None or row.ended_at is not None:
        return None
    contact = await Contact.get_or_none(id=row.contact_id)
    if (contact is None or not contact.active or now - row.last_seen_at >= rules.idle
            or now - row.created_at >= rules.longest):
        await end(row, now, "expired" if contact and contact.active else "contact_inactive")
        return None
    # At most one write a minute per session: reading a page is not a write.
    if now - row.last_seen_at >= timedelta(minutes=1):
        await AccountSession.filter(id=row.id).update(last_seen_at=now)
    return row, contact


async def end(row: AccountSession, now: datetime, reason: str) -> None:
    changed = await AccountSession.filter(id=row.id, ended_at=None).update(ended_at=now)
    if changed:
        await audit.record("vault.account.session_ended", contact_id=row.contact_id,
                           reason=reason)


@dataclass(frozen=True)
class DocumentGate:
    """Whether a session may get a document now, and if not, what it must do first."""

    allowed: bool
    needs: str = ""  # "step_up": a code first (vault.stepup)


async def may_fetch_documents(session: AccountSession, contact: Contact, now: datetime,
                              step_up: StepUpState | None = None) -> DocumentGate:
    """The one place that decides whether this session may download a document now.

    A live session of an active contact may, unless step-up (vault.stepup.state: the
    account's or tier's access.step_up, or an open access watch) wants a code first; so
    every download route (PDF, receipt, ZIP, statement) follows the same rule."""
    if session.ended_at is not None or not contact.active:
        return DocumentGate(False)
    if step_up is not None and step_up.documents_need_code:
        return DocumentGate(False, "step_up")
    return DocumentGate(True)
