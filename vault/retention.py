"""Stored data is kept as long as [retention] says, then pruned by a scheduled sweep
(bot.service runs it hourly): processed inbound mail, mail from unknown senders (trimmed
to its headers and size first), audit rows, download grants past their expiry and the
account page's sessions (which never outlive access.session_max) as old as them. The
outbox prunes its own rows (notifier.outbox.prune)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vault.config import RetentionConfig
from vault.models import AccountSession, AuditEvent, Grant, InboundMessage
from vault.vocabulary import EscalationKind, InboundState

UNKNOWN_SENDER_OUTCOME = f"refused:{EscalationKind.UNKNOWN_SENDER.value}"
TRIMMED = b"X-Invoicebot-Trimmed"  # the header a trimmed message carries
BATCH = 10  # rows read per query: raw mail can be 10 MB each


@dataclass(frozen=True)
class Pruned:
    inbound: int = 0
    trimmed: int = 0
    audit: int = 0
    grants: int = 0

    def __str__(self) -> str:
        return (f"{self.inbound} inbound mails, {self.audit} audit rows, {self.grants} grants "
                f"deleted; {self.trimmed} unknown senders' mails trimmed to their headers")


async def prune(retention: RetentionConfig, now: datetime) -> Pruned:
    """Delete (or trim) what is due, and nothing else."""
    trimmed = await trim_unknown_senders(now - retention.unknown_sender)
    inbound = await InboundMessage.filter(
        state=InboundState.PROCESSED, received_at__lt=now - retention.inbound).delete()
    audit = await AuditEvent.filter(at__lt=now - retention.audit).delete()
    grants = await Grant.filter(expires_at__lt=now - retention.grants).delete()
    await AccountSession.filter(created_at__lt=now - retention.grants).delete()
    return Pruned(inbound=int(inbound), trimmed=trimmed, audit=int(audit), grants=int(grants))


def headers_only(raw: bytes) -> bytes:
    """The header block of a message, with a header saying how big the whole was."""
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, _ = raw.partition(b"\n\n")
    return head + b"\r\n" + TRIMMED + b": body removed, message was %d bytes\r\n\r\n" % len(raw)


def is_trimmed(raw: bytes) -> bool:
    """Headers only, ending in our size header (a stranger who sends that is headers only
    anyway)."""
    last = raw.removesuffix(b"\r\n\r\n").rpartition(b"\r\n")[2]
    return raw.endswith(b"\r\n\r\n") and last.startswith(TRIMMED + b":")


async def trim_unknown_senders(before: datetime) -> int:
    """Mail from senders not on file, processed before `before`, keeps only its headers
    and size: nobody reads a stranger's attachments, and strangers must not fill the disk."""
    trimmed, after = 0, 0
    while rows := await InboundMessage.filter(
        state=InboundState.PROCESSED, outcome=UNKNOWN_SENDER_OUTCOME, received_at__lt=before,
        id__gt=after,
    ).order_by("id").limit(BATCH).only("id", "raw_message"):
        after = rows[-1].id
        for row in rows:
            raw = bytes(row.raw_message)
            if is_trimmed(raw):
                continue
            await InboundMessage.filter(id=row.id).update(raw_message=headers_only(raw))
            trimmed += 1
    return trimmed
