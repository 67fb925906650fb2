"""Signed, expiring download links.

A link is `{public_url}/d/{token}`. The token is an itsdangerous signature over a Grant
row's id and nothing else: which documents, for whom and until when all live in the row,
so a link can be revoked, and expiry, revocation and the contact's status are re-checked
in the database on every use. itsdangerous alone has no revocation; the row is why.

Keys rotate through INVOICEBOT_SECRET_KEYS (oldest first, the newest signs): a link signed
with an older key verifies while that key is still listed; removing a key voids its links.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadData, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode

from vault import audit
from vault.invoices import AccountScope
from vault.models import Contact, Document, Grant

# One salt per purpose, so a signature made for one purpose never verifies for another.
DOWNLOAD_SALT = "invoicebot.download"

LINK_PREFIX = "/d/"
# Paths that carry tokens: download links (/d/), unsubscribe links (/u/,
# notifier.unsubscribe) and one-click Slack link pages (/slack/link/, but not its /done).
_TOKEN_IN_PATH = re.compile(r"/(d|u|slack/link)/(?!done\b)[^/?#\s\"']+")
REDACTED = "/d/<redacted>"
# A download link as our signer writes it: /d/<payload>.<timestamp>.<signature>.
_DOWNLOAD_TOKEN = re.compile(r"/d/([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# The same link as stored: the grant id it signs, and no signature (seal_links).
_SEALED = re.compile(r"/d/\{grant:([A-Za-z0-9_-]{1,64})\}")


class GrantRefused(PermissionError):
    """A grant was asked for documents outside the contact's account, or for no one."""


class LinkSigner:
    """Signs grant ids into URL-safe tokens and verifies them with any listed key."""

    def __init__(self, keys: tuple[str, ...], salt: str = DOWNLOAD_SALT) -> None:
        if not keys:
            raise ValueError("INVOICEBOT_SECRET_KEYS is empty: links cannot be signed")
        self._serializer = URLSafeTimedSerializer(
            secret_key=list(keys),  # oldest first: itsdangerous signs with the last one
            salt=salt,
            signer_kwargs={"digest_method": hashlib.sha256},
        )

    def sign(self, grant_id: str) -> str:
        return self._serializer.dumps(grant_id)

    def unsign(self, token: str, max_age: int | None = None) -> str | None:
        """The grant id, or None for a token that is malformed, tampered or unknown-keyed.

        No max_age for download links: the grant row's expires_at decides, so an expiry can
        be shortened or extended after the link was sent. Short-lived values that have no
        row (an OAuth state) pass one, in seconds.
        """
        try:
            value = self._serializer.loads(token, max_age=max_age)
        except BadData:
            return None
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Refusal:
    """Why a link was not honoured; carries ids for the audit row, never the token."""

    reason: str  # bad_signature, unknown_grant, revoked, expired, contact_inactive, ...
    grant_id: str | None = None
    contact_id: int | None = None
    account_id: int | None = None


async def grant(
    scope: AccountScope,
    documents: list[Document],
    label: str,
    ttl: timedelta,
    now: datetime,
) -> Grant:
    """Let the scope's contact fetch these documents until now + ttl.

    Raises GrantRefused unless every document belongs to the scope's account and the
    contact is active.
    """
    return (await grant_each(scope, [(documents, label)], ttl, now))[0]


async def grant_each(
    scope: AccountScope,
    wanted: list[tuple[list[Document], str]],
    ttl: timedelta,
    now: datetime,
) -> list[Grant]:
    """grant() for each (documents, label), in that order, with one ownership check and
    one insert of grants and one of audit rows for all of them: a listing's links cost
    the same few statements for 1 row as for 20 (grants in one statement, issue 14).

    Raises GrantRefused, and grants nothing, unless every grant has documents, every
    document belongs to the scope's account and the contact is active.
    """
    if not wanted or any(not documents for documents, _ in wanted):
        raise GrantRefused("a grant needs at least one document")
    if not scope.contact.active:
        raise GrantRefused(f"contact {scope.contact.id} is not active")
    asked = list(dict.fromkeys(d.id for documents, _ in wanted for d in documents))
    owned = {d.id for d in await scope.documents(asked)}
    if foreign := [i for i in asked if i not in owned]:
        raise GrantRefused(f"documents {foreign} are not in account {scope.account.id}")
    rows = [Grant(id=secrets.token_urlsafe(16),  # 22 characters, 128 bits: unguessable
                  contact_id=scope.contact.id, document_ids=[d.id for d in documents],
                  label=label[:200], created_at=now, expires_at=now + ttl)
            for documents, label in wanted]
    await Grant.bulk_create(rows)
    await audit.record_many([
        audit.event("vault.link.granted", account_id=scope.account.id,
                    contact_id=scope.contact.id, grant=row.id, document_ids=row.document_ids)
        for row in rows])
    return rows


def link_url(public_url: str, signer: LinkSigner, grant: Grant) -> str:
    return f"{public_url.rstrip('/')}{LINK_PREFIX}{signer.sign(grant.id)}"


def seal_links(text: str) -> str:
    """The text with each download link's token replaced by the id of the grant it
    signs: `/d/<token>` becomes `/d/{grant:<id>}`. What is stored (outbox payloads), so a
    copy of the database holds no working link; `unseal_links` signs them again when the
    message is sent. Only tokens carrying a grant id are touched (the id is readable in
    an itsdangerous token; only the signature needs the key)."""
    return _DOWNLOAD_TOKEN.sub(_sealed, text)


def _sealed(match: re.Match[str]) -> str:
    try:
        value = json.loads(base64_decode(match[1]))
    except (BadData, ValueError):
        return match[0]
    ok = isinstance(value, str) and _SEALED.fullmatch(f"/d/{{grant:{value}}}")
    return f"/d/{{grant:{value}}}" if ok else match[0]


def unseal_links(text: str, signer: LinkSigner) -> str:
    """Sealed links (seal_links) signed again: working download links, to send."""
    return _SEALED.sub(lambda match: LINK_PREFIX + signer.sign(match[1]), text)


def has_sealed_links(text: str) -> bool:
    return _SEALED.search(text) is not None


async def check_grant(
    signer: LinkSigner, token: str, now: datetime
) -> tuple[Grant, Contact] | Refusal:
    """Every check a link must pass, in order; the first failure names the reason."""
    grant_id = signer.unsign(token)
    if grant_id is None:
        return Refusal("bad_signature")
    row = await Grant.get_or_none(id=grant_id)
    if row is None:
        return Refusal("unknown_grant", grant_id)
    contact = await Contact.get_or_none(id=row.contact_id)
    reason = _failed_check(row, contact, now)
    if reason or contact is None:
        account_id = contact.account_id if contact else None
        return Refusal(reason or "contact_inactive", row.id, row.contact_id, account_id)
    return row, contact


def _failed_check(row: Grant, contact: Contact | None, now: datetime) -> str:
    """The first rule the grant breaks at `now`, or "" if it may be used."""
    if row.revoked:
        return "revoked"
    if now >= row.expires_at:
        return "expired"  # the row decides, not the token's age: expiry can be changed
    if contact is None or not contact.active:
        return "contact_inactive"
    return ""


async def open_grant(
    signer: LinkSigner, token: str, now: datetime
) -> tuple[Grant, Contact] | None:
    """The grant and its contact if the link may be used now, else None."""
    result = await check_grant(signer, token, now)
    return None if isinstance(result, Refusal) else result


async def granted_documents(grant: Grant, contact: Contact) -> list[Document] | None:
    """The grant's documents, re-read through the contact's current account scope.

    None if any of them is gone or no longer in that account (say the contact moved to
    another customer): a link must never outlive the ownership it was made for.
    """
    scope = await AccountScope.for_contact(contact)
    ids: list[int] = list(grant.document_ids)
    documents = await scope.documents(ids)
    return documents if len(documents) == len(ids) else None


async def revoke(grant_id: str) -> bool:
    """Void a grant's links at once; True if the grant existed."""
    changed = await Grant.filter(id=grant_id).update(revoked=True)
    if changed:
        await audit.record("vault.link.revoked", grant=grant_id)
    return bool(changed)


def redact_path(path: str) -> str:
    """The path (or any text) with every token in a link path replaced by <redacted>:
    /d/<token> -> /d/<redacted>, likewise /u/ and /slack/link/."""
    return _TOKEN_IN_PATH.sub(r"/\1/<redacted>", path)


class RedactTokens(logging.Filter):
    """A logging filter that strips link tokens from a record's message and arguments.

    Attach it to any handler or logger that might see request paths (uvicorn.access,
    uvicorn.error) so a token, which is a bearer credential, never reaches a log file.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_path(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact_path(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True
