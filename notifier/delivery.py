"""Delivery: one small class per transport with one method, and the loop that drives them.

A sender raises DeliveryError(permanent=...) and the outbox decides what that means:
permanent -> dead (and AR hears of it), temporary -> retry later.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import aiosmtplib

from notifier import outbox
from notifier.email_send import Brand, wire_from
from notifier.smtp_pool import IDLE_TIMEOUT, KEEP, RelayConnection, RelayPool
from vault import metrics
from vault.config import EmailConfig, parse_hostport
from vault.links import LinkSigner, has_sealed_links, unseal_links
from vault.models import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a send may take half of it (see dispatch_once)
CLAIM = 20  # rows claimed per transaction


class DeliveryError(Exception):
    """A failed send; `permanent` says whether trying again could ever help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    channel: str

    async def send(self, recipient: str, payload: bytes) -> None:
        """Deliver one outbox payload (notifier.message: an Outgoing, rendered by the
        channel's renderer, or a row queued before it) or raise DeliveryError."""


class MaildirSender:
    """Writes each message into a Maildir: the embedded default, and what demos read."""

    channel = "email"

    def __init__(self, path: str | Path, brand: Brand | None = None) -> None:
        self.path = Path(path)
        self.brand = brand

    async def send(self, recipient: str, payload: bytes) -> None:
        try:
            await asyncio.to_thread(self._write, _wire(payload, self.brand)[0])
        except OSError as exc:  # disk full, permissions: worth another try later
            raise DeliveryError(f"maildir {self.path}: {exc.strerror or exc}") from exc

    def _write(self, payload: bytes) -> None:
        # Maildir.add writes to tmp/ and renames into new/: readers never see half a file.
        mailbox.Maildir(self.path, create=True).add(payload)


class SmtpSender:
    """Hands each message to an SMTP relay; 5xx is permanent, the rest is worth a retry.

    Connections are kept for the next message (notifier.smtp_pool: per relay, closed
    when idle; `keep=0` opens one per message). A refusal (RCPT or DATA) belongs to that
    message only: aiosmtplib answers it with RSET and the connection goes on. Up to
    `keep` messages (to different recipients) are sent at once, each on its own
    connection, so a round is not one relay round trip after another. A kept
    connection the relay dropped before our DATA went out is replaced and the message
    sent on a fresh one at once; once DATA went out, the relay may have accepted it, so a
    lost connection is a temporary failure the outbox retries (the recipient may then get
    it twice, as with any SMTP client; the Message-ID stays the same). `timeout` bounds
    each SMTP command, not a whole send.
    """

    channel = "email"

    def __init__(
        self, host: str, port: int, timeout: float = 30.0, envelope_from: str = "",
        brand: Brand | None = None, relay: RelayAccess | None = None,
        idle_timeout: float = IDLE_TIMEOUT, keep: int = KEEP,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.envelope_from = envelope_from
        self.brand = brand
        self.relay = relay or RelayAccess()
        self.pool = RelayPool(self._client, idle_timeout=idle_timeout, keep=keep)
        # Messages in flight at once (dispatch_once's waves): one per connection the pool
        # keeps, so a busy round reuses them all and opens no more than that.
        self.parallel = max(keep, 1)

    async def send(self, recipient: str, payload: bytes) -> None:
        payload, header_from = _wire(payload, self.brand)
        sender = self.envelope_from or header_from
        try:
            client, kept = await self.pool.take(sender)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise _not_connected(exc) from exc
        try:
            await self._transaction(client, sender, recipient, payload, retry=kept)
        except _Stale:  # nothing reached the relay: once more, on a fresh connection
            log.info("smtp relay %s:%s closed a kept connection; sending on a new one",
                     self.host, self.port)
            try:
                client = await self.pool.open(sender)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise _not_connected(exc) from exc
            await self._transaction(client, sender, recipient, payload, retry=False)

    async def _transaction(self, client: RelayConnection, sender: str, recipient: str,
                           payload: bytes, *, retry: bool) -> None:
        """One message on `client`; the client goes back to the pool when it is fit."""
        client.data_sent = False
        try:
            await client.sendmail(sender, [recipient], payload)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            self.pool.put_back(client)  # RSET was sent: fit for the next message
            raise _by_code(exc.recipients[0].code, exc.recipients[0].message) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code != 421:  # refused, RSET sent: the connection goes on
                self.pool.put_back(client)
                raise _by_code(exc.code, exc.message) from exc
            client.close()  # 421: the relay is closing this connection
            if retry and not client.data_sent:
                raise _Stale from exc
            raise _by_code(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            client.close()  # the conversation is in an unknown state: never reused
            if retry and not client.data_sent and isinstance(
                    exc, (aiosmtplib.SMTPServerDisconnected, ConnectionError)):
                raise _Stale from exc
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        except asyncio.CancelledError:
            client.close()  # maybe mid-DATA: a QUIT now would become part of the message
            raise
        self.pool.put_back(client)

    def _client(self, sender: str) -> RelayConnection:
        relay = self.relay
        return RelayConnection(
            hostname=self.host, port=self.port, timeout=self.timeout,
            # Explicit: the default (socket.getfqdn) may block on a DNS lookup.
            local_hostname=sender.rpartition("@")[2] or "localhost",
            # None: STARTTLS whenever the relay offers it; True: refuse one that doesn't.
            # The certificate is always verified, against the system's CAs or ours.
            start_tls=True if relay.require_tls else None, validate_certs=True,
            cert_bundle=str(relay.ca_file) if relay.ca_file else None,
            username=relay.username or None, password=relay.password or None,
        )

    async def close(self) -> None:
        """QUIT the kept connections (the service stopping)."""
        await self.pool.close()


def _not_connected(exc: Exception) -> DeliveryError:
    """Connecting failed: a relay's answer (a 5xx to AUTH is permanent) or the network."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _by_code(exc.code, exc.message)
    return DeliveryError(f"{type(exc).__name__}: {exc}")


class _Stale(Exception):
    """A kept connection was lost before the message's DATA went out."""


def _wire(payload: bytes, brand: Brand | None) -> tuple[bytes, str]:
    try:
        return wire_from(payload, brand)
    except ValueError as exc:  # a payload no retry can render
        raise DeliveryError(str(exc), permanent=True) from exc


def _with_links(payload: bytes, signer: LinkSigner | None) -> bytes:
    """The payload with its sealed download links signed, ready to render."""
    text = payload.decode("utf-8", "surrogateescape")  # a legacy row may be raw bytes
    if not has_sealed_links(text):
        return payload
    if signer is None:
        raise DeliveryError("download links to sign, and no link signer in this round")
    return unseal_links(text, signer).encode("utf-8", "surrogateescape")


def _by_code(code: int, message: str) -> DeliveryError:
    return DeliveryError(f"{code} {message}"[:300], permanent=500 <= code < 600)


@dataclass(frozen=True)
class RelayAccess:
    """How we talk to the outbound relay: TLS, AUTH and how many connections at once
    (vault.config EmailConfig)."""

    ca_file: Path | None = None
    require_tls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    connections: int = KEEP  # open at once, one message each (email.outbound_connections)

    @classmethod
    def of(cls, email: EmailConfig) -> RelayAccess:
        return cls(email.outbound_ca_file, email.outbound_require_tls,
                   email.outbound_username, email.outbound_password,
                   email.outbound_connections)


async def close_sender(sender: Sender) -> None:
    """Let go of what a sender keeps open (SmtpSender's connections); others keep nothing."""
    if isinstance(sender, SmtpSender):
        await sender.close()


def sender_for(outbound: str, *, envelope_from: str = "", timeout: float = 30.0,
               brand: Brand | None = None, relay: RelayAccess | None = None) -> Sender:
    """The sender for email.outbound: "maildir:PATH" or "smtp://HOST:PORT"; `brand`
    (the seller's name, logo and colour) heads every HTML email it renders."""
    if outbound.startswith("maildir:") and len(outbound) > len("maildir:"):
        return MaildirSender(outbound.removeprefix("maildir:"), brand=brand)
    if outbound.startswith("smtp://"):
        host, port = parse_hostport(outbound.removeprefix("smtp://"), "email.outbound")
        return SmtpSender(host, port, timeout=timeout, envelope_from=envelope_from,
                          brand=brand, relay=relay,
                          keep=(relay or RelayAccess()).connections)
    raise ValueError(f"email.outbound: {outbound!r} must be maildir:PATH or smtp://HOST:PORT")


async def dispatch_once(
    sender: Sender,
    now: datetime,
    batch: int = 100,
    lease: timedelta = LEASE,
    claim: int = CLAIM,
    signer: LinkSigner | None = None,
    claimant: str = "",
    *,
    reclaim: bool = True,
) -> int:
    """Send up to `batch` due messages of the sender's channel; returns how many were sent.

    Rows are claimed `claim` at a time (one transaction for several rows) and each is
    marked sent as soon as the relay accepted it, so a worker that dies leaves at most
    the one message in flight to be sent again. The lease covers every row this worker
    holds: a send may take at most half a lease, and when less than half is left the
    remaining rows' leases are renewed before the next send. SmtpSender keeps its
    connections between sends and rounds (notifier.smtp_pool). `signer` signs the download
    links the outbox stored sealed (vault.links.seal_links); without it a row that has
    some waits for a round that has one. `claimant` names this instance when several
    share the database (notifier.outbox.claim). With `reclaim`, the round first takes
    rows that a dead worker held.
    """
    return (await _round(sender, now, batch, lease, claim, signer, claimant, reclaim)).sent


async def dispatch_due(
    sender: Sender, now: datetime, *, signer: LinkSigner | None = None, claimant: str = "",
    reclaim: bool = True, batch: int = 100,
) -> int:
    """Rounds of dispatch_once until one finds no more due rows; returns how many were sent.
    Only the first round looks for dead workers' rows (with `reclaim`)."""
    sent = 0
    while True:
        done = await _round(sender, now, batch, LEASE, CLAIM, signer, claimant, reclaim)
        sent += done.sent
        reclaim = False
        if done.drained:
            return sent


@dataclass(frozen=True)
class Round:
    sent: int
    drained: bool  # a claim found fewer due rows than it asked for


async def _round(sender: Sender, now: datetime, batch: int, lease: timedelta, claim: int,
                 signer: LinkSigner | None, claimant: str, reclaim: bool) -> Round:
    clock = RoundClock(now)
    sent = taken = 0
    while taken < batch:
        wanted = min(claim, batch - taken)
        # Rows of dead workers once a round: on PostgreSQL every row that went
        # through `sending` leaves index entries that this query reads until vacuum.
        rows = await outbox.claim(wanted, lease, clock.lease_time(), channel=sender.channel,
                                  reclaim=reclaim and taken == 0, claimant=claimant)
        taken += len(rows)
        if rows:
            sent += await _deliver_held(sender, rows, clock, lease, signer)
        if len(rows) < wanted:  # the queue had nothing more due: no claim that finds none
            return Round(sent, drained=True)
    return Round(sent, drained=False)


class RoundClock:
    """Time within one dispatch round. Rows are stamped with the caller's `now` (the
    service's clock, a frozen one in tests). Leases are taken and renewed at `now` moved
    on by the real time the round has run (a monotonic timer, which measures a duration
    and reads no date), so a long round renews its leases although `now` was given once."""

    def __init__(self, now: datetime) -> None:
        self.given = now
        self.started, self.mono = now, time.monotonic()

    def lease_time(self) -> datetime:
        return self.started + timedelta(seconds=time.monotonic() - self.mono)

    def stamp(self) -> datetime:
        return self.given


async def _deliver_held(
    sender: Sender, rows: list[OutboxMessage], clock: RoundClock, lease: timedelta,
    signer: LinkSigner | None,
) -> int:
    """Send the rows this worker holds, a wave at a time: up to the sender's `parallel`
    messages in flight at once, each to a different recipient (one recipient's messages
    go out in the order they were queued), and the wave's deliveries recorded in one
    transaction. A worker that dies leaves at most one wave to be sent again."""
    sent = 0
    width = max(1, getattr(sender, "parallel", 1))  # SmtpSender: one per pooled connection
    while rows:
        lease_until = rows[0].lease_until
        if lease_until is None or lease_until - clock.lease_time() < lease / 2:
            rows = await outbox.renew(rows, lease, clock.lease_time())
            continue
        wave, rows = next_wave(rows, width)
        outcomes = await asyncio.gather(
            *(_send(sender, row, lease / 2, signer) for row in wave))
        sent += await _record(wave, outcomes, clock.stamp())
    return sent


def next_wave(rows: list[OutboxMessage], width: int
              ) -> tuple[list[OutboxMessage], list[OutboxMessage]]:
    """Up to `width` rows to send at once, no two to one recipient, and the rest; both in
    queue order, so a recipient's later message never overtakes an earlier one."""
    wave: list[OutboxMessage] = []
    rest: list[OutboxMessage] = []
    recipients: set[tuple[str, str]] = set()
    for row in rows:
        to = (row.channel, row.recipient)
        if len(wave) < width and to not in recipients:
            wave.append(row)
        else:
            rest.append(row)
        recipients.add(to)  # a skipped row's recipient waits too, keeping its order
    return wave, rest


@dataclass(frozen=True)
class Failure:
    """Why one send did not go through, as the outbox records it."""

    error: str
    permanent: bool


async def _send(sender: Sender, row: OutboxMessage, limit: timedelta,
                signer: LinkSigner | None) -> Failure | None:
    """One message to the sender; None once the relay or platform accepted it."""
    if row.attempts > outbox.MAX_ATTEMPTS:  # reclaimed after crashes again and again
        return Failure("gave up: worker lost the row repeatedly", True)
    metrics.delivery_attempted(row.channel)
    try:
        async with asyncio.timeout(limit.total_seconds()):  # the lease must outlast a send
            await sender.send(row.recipient, _with_links(bytes(row.payload), signer))
    except DeliveryError as exc:
        log.warning("outbox %s: delivery failed (%s): %s", row.id,
                    "permanent" if exc.permanent else "will retry", exc)
        return Failure(str(exc), exc.permanent)
    except TimeoutError:
        log.warning("outbox %s: send took longer than %s; will retry", row.id, limit)
        return Failure(f"timed out after {limit}", False)
    except Exception as exc:  # a bug in one sender must not stall the rest of the queue
        log.exception("outbox %s: unexpected error while sending", row.id)
        return Failure(f"internal error: {type(exc).__name__}", False)
    return None


async def _record(wave: list[OutboxMessage], outcomes: list[Failure | None],
                  now: datetime) -> int:
    """The wave's outcomes: its deliveries in one transaction, each failure on its own."""
    delivered = [row for row, failure in zip(wave, outcomes, strict=True) if failure is None]
    for row, held in zip(delivered, await outbox.mark_sent_many(delivered, now), strict=True):
        if not held:
            log.warning("outbox %s: sent, but the lease had run out; it may be sent twice",
                        row.id)
    for row, failure in zip(wave, outcomes, strict=True):
        if failure is not None:
            await outbox.mark_failed(row, failure.error, failure.permanent, now)
    return len(delivered)
