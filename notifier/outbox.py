"""The outbox: outgoing messages as rows with a delivery state machine.

A row holds one notifier.message.Outgoing (as JSON, stamped with its Message-ID and the
time it was queued) and the contact it is for (`contact_id`; None for AR), so nothing
has to be read back out of keys or addresses. Each channel renders it when it delivers.
Its download links are stored sealed, as the grant ids they sign (vault.links.seal_links),
and signed again when sent: the database holds no working link.

    pending ──claim──> sending ──mark_sent──> sent
                          │
                          ├─mark_failed(temporary)──> failed ──(next_attempt_at)──> claim
                          └─mark_failed(permanent, or MAX_ATTEMPTS reached)──> dead

A worker owns a row while its lease runs; a row whose lease ran out (the worker died) is
claimed again, and so is one claimed by an instance (`claimant`, vault.leases) whose
instance lease has expired: a killed instance's rows wait no longer than that. Every
transition is a conditional UPDATE that must touch exactly one row, so two workers (or
two processes) never both send the same message. `attempts` counts
delivery attempts started: it is raised when a row is claimed, so a message that kills
its worker still runs out of attempts.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import make_msgid

from tortoise import connections
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from notifier.message import Outgoing, dumps
from vault import audit, metrics
from vault.escalations import escalate
from vault.leases import dead_claims
from vault.links import seal_links
from vault.models import Contact, OutboxMessage
from vault.vocabulary import EscalationKind, OutboxState

MAX_ATTEMPTS = 10
BASE_DELAY = timedelta(minutes=1)  # doubles per attempt: 1m, 2m, 4m ... about 8 h in all
MAX_DELAY = timedelta(hours=4)


# ---- enqueue --------------------------------------------------------------------------

async def enqueue(message: Outgoing, *, now: datetime,
                  request_received_at: datetime | None = None) -> OutboxMessage:
    """Queue a message once per `message.key`: a second call with the same key returns
    the first row and queues nothing (a tick that runs twice must not mail twice).
    A reply passes when its request was received (the time to retrieval ends at send).

    The row stores the message (notifier.message.dumps) stamped with its Message-ID and
    the time it was queued, so every retry renders the same message.
    """
    fields = {**_fields(message, now), "request_received_at": request_received_at}
    row, _created = await OutboxMessage.get_or_create(key=message.key, defaults=fields)
    return row


async def enqueue_many(
    messages: Iterable[Outgoing], *, now: datetime, chunk: int = 500
) -> int:
    """Queue many messages, `chunk` rows per transaction, once per key like enqueue (keys
    already queued, or repeated, are skipped); returns how many rows were added.

    For a tick that queues thousands of alerts: one commit per chunk instead of per row.
    """
    added = 0
    pending = iter(messages)
    while group := list(itertools.islice(pending, chunk)):
        async with in_transaction():
            await _lock_for_writing()
            queued = await OutboxMessage.filter(key__in=[m.key for m in group]) \
                .values_list("key", flat=True)
            seen = {str(key) for key in queued}
            rows = []
            for item in group:
                if item.key in seen:
                    continue
                seen.add(item.key)
                rows.append(OutboxMessage(key=item.key, **_fields(item, now)))
            # ignore_conflicts: another process may queue the same key meanwhile.
            await OutboxMessage.bulk_create(rows, ignore_conflicts=True)
            added += len(rows)
    return added


def _fields(message: Outgoing, now: datetime) -> dict[str, object]:
    """A new row's columns: the message stamped with its Message-ID (email: at the
    sender's domain; chat: a random id) and the time it was queued."""
    message_id = message.message_id.strip("<>")
    if not message_id and message.mail is not None:
        domain = message.mail.sender.rpartition("@")[2] or "invoicebot.local"
        message_id = make_msgid(domain=domain).strip("<>")
    message_id = message_id or uuid.uuid4().hex
    return {
        "channel": message.channel, "kind": message.kind, "recipient": message.recipient,
        "contact_id": message.contact_id, "message_id": message_id,
        "payload": _stored(message.stamped(message_id, now)), "state": OutboxState.PENDING,
        "next_attempt_at": now, "created_at": now,
    }


def _stored(message: Outgoing) -> bytes:
    """The payload as stored: download links hold their grant id, not a working token
    (vault.links.seal_links); notifier.delivery signs them again when it sends."""
    return seal_links(dumps(message).decode("utf-8")).encode("utf-8")


async def _lock_for_writing() -> None:
    """On SQLite, take the write lock now, as BEGIN IMMEDIATE would (Tortoise only says
    BEGIN). A transaction that reads and then writes otherwise fails with "database is
    locked" when another process (a second worker, `invoicebot import`) commits between
    its read and its first write; waiting for the lock first is covered by busy_timeout.
    The UPDATE matches no row; on PostgreSQL row locks do this job and this is skipped."""
    if connections.get("default").capabilities.dialect == "sqlite":
        await OutboxMessage.filter(id=-1).update(state=OutboxState.PENDING)


# ---- claim ------------------------------------------------------------------------------

def _due(now: datetime) -> list[tuple[Q, str]]:
    """The kinds of due row, in the order a claim takes them, each with its sort column:
    rows a dead worker held, retries that are due, then new rows."""
    return [
        (Q(state=OutboxState.SENDING) & (Q(lease_until__lt=now) | dead_claims(now)),
         "lease_until"),
        (Q(state=OutboxState.FAILED, next_attempt_at__lte=now), "next_attempt_at"),
        (Q(state=OutboxState.PENDING, next_attempt_at__lte=now), "next_attempt_at"),
    ]


async def claim(
    batch: int, lease: timedelta, now: datetime, channel: str | None = None,
    *, reclaim: bool = True, claimant: str = "",
) -> list[OutboxMessage]:
    """Take up to `batch` due rows for this worker until now + lease, in the name of
    instance `claimant` ("" with one instance); with `reclaim`, rows whose lease ran out
    or whose instance died first.

    One query per kind of due row, each walking the (state, next_attempt_at) index in
    order, so a claim reads about `batch` rows however long the queue is (a single query
    with OR sorted every due row, every time: quadratic over a 50,000-alert backlog).
    The rows read cannot change before they are updated, so one UPDATE takes them all:
    on PostgreSQL this transaction holds their row locks (FOR UPDATE SKIP LOCKED, which
    also keeps concurrent workers off each other's candidates); on SQLite it holds the
    database's write lock, and claims take turns.
    """
    claimed: list[OutboxMessage] = []
    lease_until = now + lease
    async with in_transaction():
        await _lock_for_writing()
        for due, column in _due(now)[0 if reclaim else 1:]:
            if len(claimed) >= batch:
                break
            query = OutboxMessage.filter(due)
            if channel is not None:
                query = query.filter(channel=channel)
            # By the index's own order, so PostgreSQL can stop after `batch` rows (with a
            # tie-breaker it reads and sorts every due row; SQLite's index ends in rowid).
            candidates = await query.order_by(column).limit(batch - len(claimed)) \
                .select_for_update(skip_locked=True)
            if not candidates:
                continue
            updated = await OutboxMessage.filter(due, id__in=[row.id for row in candidates]) \
                .update(state=OutboxState.SENDING, lease_until=lease_until,
                        attempts=F("attempts") + 1, claimed_by=claimant)
            if updated != len(candidates):  # the locks above say this cannot happen
                raise RuntimeError(f"outbox claim: read {len(candidates)} rows, took {updated}")
            for row in candidates:
                row.state, row.lease_until = OutboxState.SENDING, lease_until
                row.attempts += 1
            claimed += candidates
    return claimed


async def try_claim(row: OutboxMessage, lease: timedelta, now: datetime) -> bool:
    """Move one row, as last read, to sending. False if another worker got there first."""
    guard = Q(id=row.id, state=row.state, attempts=row.attempts)
    if row.state == OutboxState.SENDING:
        guard &= Q(lease_until=row.lease_until, lease_until__lt=now)
    else:
        guard &= Q(next_attempt_at__lte=now)
    lease_until = now + lease
    updated = await OutboxMessage.filter(guard).update(
        state=OutboxState.SENDING, lease_until=lease_until, attempts=F("attempts") + 1
    )
    if updated != 1:
        return False
    row.state, row.lease_until, row.attempts = OutboxState.SENDING, lease_until, row.attempts + 1
    return True


async def renew(rows: list[OutboxMessage], lease: timedelta, now: datetime
                ) -> list[OutboxMessage]:
    """Extend this worker's lease on rows it holds (claimed together, one lease_until) to
    now + lease; returns those still held, in order (a row whose lease ran out may have
    been claimed by another worker, which raised its attempts)."""
    lease_until = now + lease
    held: list[OutboxMessage] = []
    async with in_transaction():
        for row in rows:
            updated = await OutboxMessage.filter(
                id=row.id, state=OutboxState.SENDING, lease_until=row.lease_until,
                attempts=row.attempts,
            ).update(lease_until=lease_until)
            if updated == 1:
                held.append(row)
    for row in held:
        row.lease_until = lease_until
    return held


# ---- outcomes ----------------------------------------------------------------------------

async def _transition(row: OutboxMessage, **changes: object) -> bool:
    """Apply changes only if this worker still holds the row's lease."""
    updated = await OutboxMessage.filter(
        id=row.id, state=OutboxState.SENDING, lease_until=row.lease_until
    ).update(**changes)
    if updated != 1:
        return False
    for name, value in changes.items():
        setattr(row, name, value)
    return True


async def mark_sent(row: OutboxMessage, now: datetime) -> bool:
    """Record a delivery; False if the lease was lost (another worker took the row)."""
    (held,) = await mark_sent_many([row], now)
    return held


async def mark_sent_many(rows: list[OutboxMessage], now: datetime) -> list[bool]:
    """Record deliveries that finished together in one transaction: one commit (one fsync)
    for a wave of sends instead of one each. Per row, False if its lease was lost."""
    if not rows:
        return []
    changes: dict[str, object] = {"state": OutboxState.SENT, "sent_at": now,
                                  "lease_until": None, "last_error": ""}
    held = await _all_sent(rows, changes)
    if held is None:  # rows claimed apart, or a lease lost: row by row, to know which
        async with in_transaction():
            held = [await _transition(row, **changes) for row in rows]
    for row, ok in zip(rows, held, strict=True):
        if ok:
            metrics.reply_accepted(row.channel, row.request_received_at, now)
    return held


class _NotAllHeld(Exception):
    """Rolls back a one-statement update that did not find every row still held."""


async def _all_sent(rows: list[OutboxMessage], changes: dict[str, object]) -> list[bool] | None:
    """The usual case in one statement: rows claimed together (one lease) and all still
    held. None, with nothing changed, when that is not so."""
    leases = {row.lease_until for row in rows}
    if len(leases) != 1:
        return None
    try:
        async with in_transaction():
            updated = await OutboxMessage.filter(
                id__in=[row.id for row in rows], state=OutboxState.SENDING,
                lease_until=leases.pop()).update(**changes)
            if updated != len(rows):
                raise _NotAllHeld
    except _NotAllHeld:
        return None
    for row in rows:
        row.update_from_dict(changes)
    return [True] * len(rows)


async def mark_failed(
    row: OutboxMessage, error: str, permanent: bool, now: datetime
) -> bool:
    """Schedule a retry with capped, jittered exponential backoff, or give up (dead).

    `error` is the remote server's answer or an exception summary, never the message.
    """
    error = error[:500]
    if permanent or row.attempts >= MAX_ATTEMPTS:
        async with in_transaction():  # dead, and AR told, or neither
            if not await _transition(row, state=OutboxState.DEAD, lease_until=None,
                                     last_error=error):
                return False
            await _bury(row, error, now)
        metrics.delivery_failed(row.channel, dead=True)
        return True
    metrics.delivery_failed(row.channel, dead=False)
    return await _transition(
        row, state=OutboxState.FAILED, lease_until=None, last_error=error,
        next_attempt_at=now + retry_delay(row.attempts),
    )


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next attempt after `attempts` tries: doubling, capped, jittered
    down by up to a quarter so rows that failed together do not retry together."""
    exponent = max(attempts - 1, 0)
    delay = MAX_DELAY if exponent >= 20 else min(MAX_DELAY, BASE_DELAY * 2**exponent)
    return delay * random.uniform(0.75, 1.0)


async def _bury(row: OutboxMessage, error: str, now: datetime) -> None:
    """A dead delivery is something AR must hear about: audit it and escalate it.
    The row names its contact (None: AR's own digest, or a notice to nobody on file)."""
    contact = await Contact.get_or_none(id=row.contact_id) if row.contact_id else None
    account_id = contact.account_id if contact else None
    contact_id = contact.id if contact else None
    await audit.record(
        "notifier.delivery.dead", account_id=account_id, contact_id=contact_id,
        outbox_id=row.id, channel=row.channel, kind=row.kind, attempts=row.attempts,
        error=error,
    )
    await escalate(
        EscalationKind.DEAD_DELIVERY, f"dead_delivery:{row.id}", at=now,
        account_id=account_id, contact_id=contact_id, address=row.recipient,
        summary=f"{row.kind} via {row.channel} undeliverable after "
                f"{row.attempts} attempt(s): {error[:200]}",
    )


async def prune(before: datetime) -> int:
    """Delete messages that are done with (sent or dead) and were made before `before`;
    how many. Pending, failed and sending rows stay, however old: they are still owed.
    (A key enqueued again after its row is gone would be sent again; retention is far
    longer than any cause re-enqueues its key.)"""
    done = (OutboxState.SENT, OutboxState.DEAD)
    return int(await OutboxMessage.filter(state__in=done, created_at__lt=before).delete())
