"""Is an email a reply to one of ours? Then only its new text is a request.

A reply names one of our Message-IDs in In-Reply-To or References (the outbox keeps the
Message-ID of everything we sent), or its subject, behind Re:/AW:/SV:/RE:/Fwd:/WG:/TR:/
RV:/R: prefixes, is one we sent to that address. Our subjects are our own words
("Invoices in March 2026: 3 invoices", "Your balance: ..."): read as a request, they
answered questions nobody asked, so a reply's subject is never parsed; its request is
the body written above the quoted history (bot.mailtext cuts that).
"""

from __future__ import annotations

import re
from email.message import EmailMessage

from bot.mailtext import bare_subject
from notifier.message import Outgoing, loads
from vault.models import OutboxMessage
from vault.vocabulary import Channel

_MSG_ID = re.compile(r"<([^<>\s\"]{1,250})>")
MAX_IDS = 20  # the newest References are enough: a thread of ours is short
RECENT = 200  # our latest messages to the address whose subjects are compared


async def replies_to_ours(msg: EmailMessage, sender: str) -> bool:
    """Whether `msg` answers a message we sent (by its headers, or by its subject)."""
    ids = _MSG_ID.findall(f"{msg.get('In-Reply-To', '') or ''} {msg.get('References', '') or ''}")
    if ids and await OutboxMessage.filter(message_id__in=ids[-MAX_IDS:],
                                          channel=Channel.EMAIL).exists():
        return True
    subject = bare_subject(msg)
    return bool(subject) and subject in await _our_subjects(sender)


async def _our_subjects(address: str) -> set[str]:
    """The subjects of our latest emails to this address. We write only to addresses on
    file, stored lower-cased, and the sender comes lower-cased from mailauth: an exact
    match uses the (recipient, ...) index where iexact would scan the outbox."""
    payloads = await OutboxMessage.filter(
        recipient=address, channel=Channel.EMAIL
    ).order_by("-id").limit(RECENT).values_list("payload", flat=True)
    subjects = set()
    for payload in payloads:
        try:
            message = loads(bytes(payload))
        except ValueError:
            continue
        if isinstance(message, Outgoing):
            subjects.add(" ".join(message.title.split()))
    return subjects
