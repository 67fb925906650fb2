"""Delivery: one small class per transport with one method, and the loop that drives them.

A sender raises DeliveryError(permanent=...) and the outbox decides what that means:
permanent -> dead (and AR hears of it), temporary -> retry later.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

import aiosmtplib

from notifier import outbox
from vault.config import parse_hostport
from vault.models import OutboxMessage
from vault.timeutil import utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # longer than one send can take (SmtpSender's timeout)


class DeliveryError(Exception):
    """A failed send; `permanent` says whether trying again could ever help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    channel: str

    async def send(self, recipient: str, payload: bytes) -> None:
        """Deliver one serialized message or raise DeliveryError."""


class MaildirSender:
    """Writes each message into a Maildir: the embedded default, and what demos read."""

    channel = "email"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    async def send(self, recipient: str, payload: bytes) -> None:
        try:
            await asyncio.to_thread(self._write, payload)
        except OSError as exc:  # disk full, permissions: worth another try later
            raise DeliveryError(f"maildir {self.path}: {exc.strerror or exc}") from exc

    def _write(self, payload: bytes) -> None:
        # Maildir.add writes to tmp/ and renames into new/: readers never see half a file.
        mailbox.Maildir(self.path, create=True).add(payload)


class SmtpSender:
    """Hands each message to an SMTP relay; 5xx is permanent, the rest is worth a retry."""

    channel = "email"

    def __init__(
        self, host: str, port: int, timeout: float = 30.0, envelope_from: str = ""
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.envelope_from = envelope_from

    async def send(self, recipient: str, payload: bytes) -> None:
        sender = self.envelope_from or _header_from(payload)
        try:
            await aiosmtplib.send(
                payload, sender=sender, recipients=[recipient], hostname=self.host,
                port=self.port, timeout=self.timeout,
                # Explicit: the default (socket.getfqdn) may block on a DNS lookup.
                local_hostname=sender.rpartition("@")[2] or "localhost",
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _by_code(exc.recipients[0].code, exc.recipients[0].message) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def _by_code(code: int, message: str) -> DeliveryError:
    return DeliveryError(f"{code} {message}"[:300], permanent=500 <= code < 600)


def _header_from(payload: bytes) -> str:
    headers = BytesHeaderParser(policy=default_policy).parsebytes(payload)
    addresses = getaddresses([str(headers.get("From", ""))])
    return addresses[0][1] if addresses else ""


def sender_for(outbound: str, *, envelope_from: str = "", timeout: float = 30.0) -> Sender:
    """The sender for email.outbound: "maildir:PATH" or "smtp://HOST:PORT"."""
    if outbound.startswith("maildir:") and len(outbound) > len("maildir:"):
        return MaildirSender(outbound.removeprefix("maildir:"))
    if outbound.startswith("smtp://"):
        host, port = parse_hostport(outbound.removeprefix("smtp://"), "email.outbound")
        return SmtpSender(host, port, timeout=timeout, envelope_from=envelope_from)
    raise ValueError(f"email.outbound: {outbound!r} must be maildir:PATH or smtp://HOST:PORT")


async def dispatch_once(
    sender: Sender, now: datetime | None = None, batch: int = 50, lease: timedelta = LEASE
) -> int:
    """Send up to `batch` due messages of the sender's channel; returns how many were sent.

    Rows are claimed one at a time, just before sending, so a lease never has to cover a
    whole batch of slow sends.
    """
    sent = 0
    for _ in range(batch):
        at = now or utcnow()
        rows = await outbox.claim(1, lease, at, channel=sender.channel)
        if not rows:
            break
        sent += await _deliver(sender, rows[0], at)
    return sent


async def _deliver(sender: Sender, row: OutboxMessage, now: datetime) -> int:
    if row.attempts > outbox.MAX_ATTEMPTS:  # reclaimed after crashes again and again
        await outbox.mark_failed(row, "gave up: worker lost the row repeatedly", True, now)
        return 0
    try:
        await sender.send(row.recipient, bytes(row.payload))
    except DeliveryError as exc:
        log.warning("outbox %s: delivery failed (%s): %s", row.id,
                    "permanent" if exc.permanent else "will retry", exc)
        await outbox.mark_failed(row, str(exc), exc.permanent, now)
        return 0
    except Exception as exc:  # a bug in one sender must not stall the rest of the queue
        log.exception("outbox %s: unexpected error while sending", row.id)
        await outbox.mark_failed(row, f"internal error: {type(exc).__name__}", False, now)
        return 0
    if not await outbox.mark_sent(row, now):
        log.warning("outbox %s: sent, but the lease had run out; it may be sent twice", row.id)
    return 1
