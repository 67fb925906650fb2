"""Email in: an SMTP handler that only speaks SMTP, and plain functions that store mail.

The contract with senders (see INTERFACES.md): 550 for recipients we do not serve, 250
only after the raw message is committed (messages arriving at once on several connections
share one commit: vault.group_commit), 451 for any internal failure so the sender
retries, 552 over the size limit (aiosmtpd's data_size_limit does that), 554 over the
header or MIME caps (bot.mailscan); connection caps, rates and timeouts in
bot.channels.smtpguard. The pipeline
reads stored messages from the database later (bot.inbound), after a restart too.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from functools import partial
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from tortoise.exceptions import IntegrityError

from bot.channels.smtpguard import GuardedSMTP, PeerLimits
from bot.mailscan import header_size, over_limits
from vault.clock import Clock
from vault.config import EmailConfig
from vault.group_commit import GroupCommit
from vault.models import InboundMessage
from vault.vocabulary import InboundState

log = logging.getLogger(__name__)

ACCEPTED = "250 2.0.0 Message accepted for delivery"
TEMPFAIL = "451 4.3.0 Temporary failure, please retry"

_MESSAGE_ID = re.compile(r"^\s*<([^<>\s]{1,250})>\s*$")


# ---- plain functions: no SMTP here -----------------------------------------------------

def message_key(raw: bytes) -> str:
    """The Message-ID without <>, or a hash of the bytes when there is no usable one.

    A sender that lost our 250 resends the same message: the key makes that a no-op.
    """
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:header_size(raw)],
                                                           headersonly=True)
    values = headers.get_all("Message-ID") or []
    match = _MESSAGE_ID.match(str(values[0])) if len(values) == 1 else None
    return match[1] if match else "sha256:" + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Arrival:
    """One message as SMTP handed it to us, with the key it is stored under."""

    raw: bytes
    peer: str
    mail_from: str
    rcpt_tos: list[str]
    received_at: datetime
    key: str = field(init=False)

    def __post_init__(self) -> None:
        # Parsed here, in the session's own turn, not inside the shared transaction.
        object.__setattr__(self, "key", message_key(self.raw))


async def store_arrivals(arrivals: list[Arrival]) -> list[tuple[int, bool]]:
    """Within the caller's transaction: (id, created) for each; a known key, or one met
    earlier in the same list, is not stored again."""
    known: dict[str, int] = dict(await InboundMessage.filter(
        message_key__in={a.key for a in arrivals}).values_list("message_key", "id"))
    stored = []
    for arrival in arrivals:
        if arrival.key in known:
            stored.append((known[arrival.key], False))
            continue
        row = await InboundMessage.create(
            message_key=arrival.key,
            raw_message=arrival.raw,
            peer=arrival.peer[:64],
            mail_from=arrival.mail_from[:320],
            rcpt_tos=arrival.rcpt_tos,
            received_at=arrival.received_at,
            state=InboundState.RECEIVED,
        )
        known[arrival.key] = row.id
        stored.append((row.id, True))
    return stored


class InboundStore:
    """Received messages into inbound_message; those arriving together on several
    connections share one commit (vault.group_commit), each answered after it."""

    def __init__(self) -> None:
        self.commit = GroupCommit(InboundMessage, store_arrivals)

    async def store(self, arrival: Arrival) -> tuple[int, bool]:
        """Commit a received message; returns (id, created)."""
        try:
            return await self.commit.submit(arrival)
        except IntegrityError:  # another instance stored the same message at once; it won
            row = await InboundMessage.get(message_key=arrival.key)
            return row.id, False


async def store_inbound(
    raw: bytes, peer: str, mail_from: str, rcpt_tos: list[str], now: datetime
) -> tuple[int, bool]:
    """Commit one received message; returns (id, created). A known key is not stored again."""
    return await InboundStore().store(Arrival(raw, peer, mail_from, rcpt_tos, now))


# ---- the SMTP side ------------------------------------------------------------------------

class InboundHandler:
    """aiosmtpd hooks: refuse unknown recipients, store DATA, then tell the pipeline."""

    def __init__(self, config: EmailConfig, on_stored: Callable[[int], None],
                 clock: Clock) -> None:
        self.config = config
        self.on_stored = on_stored
        self.clock = clock
        self.inbound = InboundStore()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.lower() not in self.config.addresses:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        # Bounded by the caps, not the message; in a thread so the loop keeps its turns.
        over = await asyncio.to_thread(over_limits, raw, self.config.limits)
        if over is not None:
            log.info("smtp: message refused (%d bytes): %s", len(raw), over)
            return f"554 5.6.0 Message refused: {over}"
        try:
            row_id, created = await self.inbound.store(Arrival(
                raw, _peer_ip(session), str(envelope.mail_from or ""), list(envelope.rcpt_tos),
                self.clock.now()))
        except Exception as error:
            # Answered here rather than in handle_exception so aiosmtpd resets the
            # envelope and the sender can retry in the same session.
            return await self.handle_exception(error)
        log.info("smtp: message %s %s (%d bytes)", row_id,
                 "stored" if created else "was already stored", len(raw))
        if created:
            self._notify(row_id)
        return ACCEPTED

    async def handle_exception(self, error: Exception) -> str:
        """Any internal failure is temporary for the sender: 451, never aiosmtpd's 500."""
        # The exception type and message only: they name tables, never message content.
        log.error("smtp: internal error, answered 451: %s: %.200s", type(error).__name__, error)
        return TEMPFAIL

    def _notify(self, message_id: int) -> None:
        try:
            self.on_stored(message_id)
        except Exception:  # the message is stored; the next requeue picks it up
            log.exception("smtp: on_stored(%s) failed", message_id)


def _peer_ip(session: Session) -> str:
    peer: Any = session.peer
    return str(peer[0]) if isinstance(peer, tuple) else str(peer)


async def start_smtp_server(config: EmailConfig, handler: object,
                            guard: PeerLimits | None = None) -> asyncio.Server:
    """Listen on email.listen in the running loop (not aiosmtpd's threaded Controller),
    so handlers share the loop and the ORM with the rest of the service."""
    # aiosmtpd logs every DATA line at DEBUG and MAIL FROM / RCPT TO at INFO; message
    # bodies and envelope addresses must never reach our logs at the default level.
    # bot.logsetup lets them through when log.level is DEBUG.
    if logging.getLogger("mail.log").level == logging.NOTSET:
        logging.getLogger("mail.log").setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    factory = partial(
        GuardedSMTP,
        handler,
        limits=guard or PeerLimits(config),
        data_size_limit=config.max_size,
        enable_SMTPUTF8=True,
        ident="invoicebot",
        # Explicit: the default socket.getfqdn() can block on a DNS lookup.
        hostname=config.sender.rpartition("@")[2] or "localhost",
        loop=loop,
        tls_context=_tls_context(config),  # STARTTLS offered only when a cert is set
        require_starttls=config.require_tls,
    )
    host, port = config.listen
    server = await loop.create_server(factory, host, port)
    log.info("smtp: listening on %s", ", ".join(str(s.getsockname()) for s in server.sockets))
    return server


def _tls_context(config: EmailConfig) -> ssl.SSLContext | None:
    if config.tls_cert is None or config.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config.tls_cert, config.tls_key)
    return context
