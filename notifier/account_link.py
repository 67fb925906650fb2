"""The "Open your account" link in every reply and alert, added in one place.

Every outgoing message passes its channel's Sender; `AccountLinked` wraps each one and
adds, to every reply, alert, digest and test alert for an active contact, a last section
with the link to the contact's account page (vault.sessions). The link's grant is keyed
by the message's id, so a retried message links to the same grant.
"""

from __future__ import annotations

import contextlib
import hashlib
from base64 import urlsafe_b64encode
from dataclasses import dataclass, replace
from datetime import timedelta

from notifier.message import Link, Outgoing, Section, dumps, loads
from vault import sessions
from vault.clock import Clock
from vault.links import LinkSigner
from vault.models import Contact, Grant
from vault.vocabulary import OutboxKind

LINKED_KINDS = (OutboxKind.REPLY, OutboxKind.ALERT, OutboxKind.DIGEST, OutboxKind.TEST)


@dataclass(frozen=True)
class AccountLinks:
    public_url: str
    signer: LinkSigner  # salt vault.sessions.ACCOUNT_SALT
    ttl: timedelta
    clock: Clock

    async def url_for(self, message: Outgoing) -> str:
        """The message's account link ("" when it is for no active contact)."""
        if message.contact_id is None or message.kind not in LINKED_KINDS:
            return ""
        contact = await Contact.get_or_none(id=message.contact_id)
        if contact is None or not contact.active:
            return ""
        digest = hashlib.sha256(f"account:{message.message_id}".encode()).digest()
        now = self.clock.now()
        grant = Grant(id=urlsafe_b64encode(digest).decode()[:22], contact_id=contact.id,
                      document_ids=[], created_at=now, label=sessions.ACCOUNT_LABEL,
                      expires_at=now + self.ttl)
        # One statement: a retried message finds its grant there and keeps it as it was.
        await Grant.bulk_create([grant], ignore_conflicts=True)
        return sessions.account_url(self.public_url, self.signer, grant)

    async def added(self, message: Outgoing) -> Outgoing:
        url = await self.url_for(message)
        if not url:
            return message
        label = message.words.gettext("Open your account")  # in the message's language
        section = Section(links=(Link(label, url),))
        return replace(message, sections=(*message.sections, section))


class AccountLinked:
    """A Sender that adds the account link to each message before its sender renders it."""

    def __init__(self, inner: object, links: AccountLinks) -> None:
        self.inner = inner
        self.links = links
        self.channel: str = inner.channel  # type: ignore[attr-defined]

    async def send(self, recipient: str, payload: bytes) -> None:
        message = loads(payload)
        if isinstance(message, Outgoing):
            payload = dumps(await self.links.added(message))
        await self.inner.send(recipient, payload)  # type: ignore[attr-defined]

    def connection(self) -> contextlib.AbstractAsyncContextManager[None]:
        opened = getattr(self.inner, "connection", None)
        return opened() if opened is not None else contextlib.nullcontext()
