"""One inbound state machine for every channel: email, Slack, Telegram (and later ones).

A channel stores each message before it acknowledges it (250 to the SMTP sender, 200 to
Slack or Telegram), so a crash after the acknowledgement loses nothing. Processing happens
after, here, one message at a time per channel, in arrival order:

    received ──(handled: answer queued and row marked in one transaction)──> processed
        ├──(the try raised)──> attempts + 1, still received: tried again by the sweep
        │                      (the service's scheduler, every RETRY_EVERY) once its
        │                      backoff has passed (RETRY_EVERY, then twice that, ...)
        ├──(MAX_ATTEMPTS tries raised)──> failed: set aside for AR (an Escalation of kind
        │                                 unprocessable, an audit row), kept whole
        └──(over a budget: the channel calls set_aside)──> failed at once, the same way

A try that fails because the database itself fails (locked, full) may not even record
its attempt; it keeps its backoff in memory and the sweep tries it again once the fault
clears, without a restart.

A channel supplies only what differs: its table and two functions, how a stored row is
answered (`handle`, which marks it processed in the transaction that queues its answer) and
where it came from (`origin`, for AR). Everything else is here, once.

Many instances (PostgreSQL): whichever instance stored a message queues it, and any
instance's sweep may queue it too; before a try the row is claimed for this instance
(`claimant`, vault.leases.claimable: one conditional UPDATE), so each is processed by
one instance. A claim lasts as long as its instance's lease: a killed instance's rows are
claimed by the next sweep elsewhere once that lease has expired. With one instance
(SQLite) `claimant` is "" and nothing is claimed.

Start-up: the rows a previous run left are queued, not processed, once the listeners
are open. They are answered in the background, in arrival order; start-up does not wait
for them: a backlog, or a message that breaks the
pipeline, never keeps the service from accepting mail and chat deliveries, which senders
would see as refused connections and platforms as failed webhooks they retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from tortoise.transactions import in_transaction

from vault import audit
from vault.clock import Clock
from vault.escalations import escalate
from vault.leases import claimable
from vault.models import ChatInbound, Contact, InboundMessage
from vault.vocabulary import Channel, EscalationKind, InboundState

log = logging.getLogger(__name__)

# A message that fails this often is poison (it breaks the parser or the pipeline every
# time), not an outage: it is set aside for AR, kept whole, and no longer tried.
MAX_ATTEMPTS = 3
RETRY_EVERY = timedelta(minutes=2)  # how soon a failed try is tried again
UNPROCESSABLE = "unprocessable"  # the outcome stored on a row set aside

Row = TypeVar("Row", InboundMessage, ChatInbound)


@dataclass(frozen=True)
class Origin:
    """Where a stored message came from, as AR reads it: never its content."""

    channel: Channel
    key: str  # the stored key: a Message-ID, slack:<event_id>, telegram:<update_id>
    address: str  # the envelope sender, or the chat account
    contact_id: int | None = None  # when the channel knows whose it is (a linked chat)


class InboundQueue(Generic[Row]):
    """One channel's stored messages, processed by one worker; see the module docstring."""

    def __init__(self, table: type[Row], handle: Callable[[Row], Awaitable[str]],
                 origin: Callable[[Row], Awaitable[Origin]], clock: Clock,
                 retry_every: timedelta = RETRY_EVERY) -> None:
        self.table: type[Row] = table
        self.retry_every = retry_every
        self.handle: Callable[[Row], Awaitable[str]] = handle
        self.origin: Callable[[Row], Awaitable[Origin]] = origin
        self.clock = clock
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        # Waiting or being tried: a row is never queued twice, so a requeue during its try
        # does not try it again straight after.
        self._queued: set[int] = set()
        self._worker: asyncio.Task[None] | None = None
        # Row id -> loop time before which the sweep does not try it again (a backoff).
        self._not_before: dict[int, float] = {}
        # This instance's name when several share the database (see the module docstring).
        self.claimant = ""

    @property
    def name(self) -> str:
        return str(self.table._meta.db_table)

    async def start(self) -> int:
        """Queue what a previous run left and start the worker; returns how many it left."""
        left = await self.requeue()
        self._worker = asyncio.create_task(self.run(), name=self.name)
        return left

    async def stop(self) -> None:
        """Stop the worker; a row it was processing stays `received` for the next start."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    def put(self, row_id: int) -> None:
        """Queue a stored row; call once it is committed."""
        if row_id not in self._queued:
            self._queued.add(row_id)
            self._queue.put_nowait(row_id)

    async def requeue(self, *, due_only: bool = False) -> int:
        """Queue every row still `received` that is not queued already: left by a previous
        run, or its last try failed; with `due_only` (the sweep), only those whose backoff
        has passed. Returns how many were queued."""
        query = self.table.filter(state=InboundState.RECEIVED)
        if self.claimant:  # not those another live instance is processing
            query = query.filter(claimable(self.claimant, self.clock.now()))
        rows = await query.order_by("id").values("id")
        now = asyncio.get_running_loop().time()
        fresh = [int(row["id"]) for row in rows if int(row["id"]) not in self._queued
                 and not (due_only and self._not_before.get(int(row["id"]), now) > now)]
        for row_id in fresh:
            self.put(row_id)
        return len(fresh)

    def _back_off(self, row_id: int, attempts: int = 1) -> None:
        """After a failed try: retry_every after the first attempt, twice that after the
        second. A database fault (no attempt recorded) waits retry_every each time, so
        the sweep after the fault clears answers it, however long the fault lasted."""
        delay = self.retry_every.total_seconds() * 2 ** min(max(attempts - 1, 0), 4)
        self._not_before[row_id] = asyncio.get_running_loop().time() + delay

    async def run(self) -> None:
        """The worker: one row at a time, in the order they were queued."""
        while True:
            row_id = await self._queue.get()
            self._not_before.pop(row_id, None)
            try:
                await self.process(row_id)
            except Exception:  # the database itself failed: the next requeue tries it again
                log.exception("%s %s: not processed; tried again later", self.name, row_id)
                if row_id not in self._not_before:  # not backed off by process
                    self._back_off(row_id)
            finally:
                self._queued.discard(row_id)

    async def process(self, row_id: int) -> str:
        """Try one stored row once; returns what happened to it."""
        if self.claimant and not await self.table.filter(
                claimable(self.claimant, self.clock.now()), id=row_id,
                state=InboundState.RECEIVED).update(claimed_by=self.claimant):
            return "processed or claimed by another instance"
        row = await self.table.get_or_none(id=row_id, state=InboundState.RECEIVED)
        if row is None:
            return "already processed"
        try:
            outcome = await self.handle(row)
        except Exception:
            log.exception("%s %s: processing failed (attempt %d of %d)", self.name, row.id,
                          row.attempts + 1, MAX_ATTEMPTS)
        else:
            return outcome
        return await self._failed(row)

    async def mark_processed(self, row_id: int, outcome: str, *,
                             state: InboundState = InboundState.PROCESSED) -> bool:
        """Record how a received row ended; False if it was not (or no longer) received.

        Call it in the transaction that queues the row's answer: a row tried again after a
        crash is then either answered and marked, or neither, never answered twice.
        """
        if state == InboundState.RECEIVED:
            raise ValueError("a row ends processed or failed, not received")
        updated: int = await self.table.filter(id=row_id, state=InboundState.RECEIVED).update(
            state=state, outcome=outcome[:64], processed_at=self.clock.now())
        return updated == 1

    async def _failed(self, row: Row) -> str:
        attempts = row.attempts + 1
        self._back_off(row.id, attempts)  # first: the update below can fail as the try did
        # Its own statement, outside the failed try's transaction: the count survives it.
        await self.table.filter(id=row.id).update(attempts=attempts)
        if attempts < MAX_ATTEMPTS:
            return f"attempt {attempts} failed"
        return await self.set_aside(row, f"failed {attempts} times", attempts=attempts)

    async def set_aside(self, row: Row, why: str, *, attempts: int | None = None) -> str:
        """No more tries: failed, an AR item saying `why`, an audit row; the row kept whole."""
        attempts = row.attempts if attempts is None else attempts
        origin = await self.origin(row)
        async with in_transaction():
            await _escalate(origin, row.id, why, self.clock.now())
            await audit.record(f"bot.inbound.{UNPROCESSABLE}", channel=origin.channel.value,
                               inbound=row.id, attempts=attempts, reason=why)
            await self.mark_processed(row.id, UNPROCESSABLE, state=InboundState.FAILED)
        self._not_before.pop(row.id, None)
        return UNPROCESSABLE


async def requeue(queues: Iterable[InboundQueue[Any]], *, due_only: bool = False) -> int:
    """Every channel's failed tries, queued again: the service's periodic retry."""
    return sum([await queue.requeue(due_only=due_only) for queue in queues])


async def _escalate(origin: Origin, row_id: int, why: str, now: datetime) -> None:
    """Set aside for AR, once per row however often called."""
    contact = await Contact.get_or_none(id=origin.contact_id) if origin.contact_id else None
    await escalate(
        EscalationKind.UNPROCESSABLE, f"{UNPROCESSABLE}:{origin.channel.value}:{row_id}",
        at=now, account_id=contact.account_id if contact else None,
        contact_id=origin.contact_id, address=origin.address,
        summary=f"{origin.channel.label} message {origin.key[:80]} {why}; "
                "kept in the inbound store")
