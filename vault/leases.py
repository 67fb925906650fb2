"""Which instance does what, when several `serve` processes share one database.

Three tools, one per kind of work:

- A lease (the `lease` table): work that must run in exactly one instance for as long as
  that instance lives (Slack socket mode, Telegram polling), and each instance's own
  liveness (`instance:<name>`). `take` is an atomic UPDATE: it renews the holder's own
  lease, or takes over one that has expired. The holder renews every ttl/3 (`Keeper`); a
  holder that dies (SIGKILL: no release) stops renewing, and another instance takes over
  once the lease expires, within ttl + ttl/3.
- Claims on stored rows (`claimable`): an inbound message is processed by the instance
  whose name is in its `claimed_by`, for as long as that instance's own lease lives; a
  crashed instance's claims lapse with it.
- Turns (`Turns`): a scheduler tick runs in one instance at a time, under a PostgreSQL
  advisory lock on a connection of this process's own; the server drops the lock with
  the session when the process dies.

SQLite means one instance (`hold_sqlite` refuses a second `serve`): every turn is ours
and rows need no claims; leases work the same on both.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from vault.clock import Clock
from vault.models import Lease

log = logging.getLogger(__name__)

INSTANCE = "instance:"  # the lease that says an instance lives: instance:<its name>
Work = Callable[[], Awaitable[object]]


def instance_name() -> str:
    """A name no other live instance has: host, process and a random part (a restarted
    process is a new instance; its predecessor's claims lapse with its lease)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


# ---- leases ---------------------------------------------------------------------------------

async def take(name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Hold `name` until now + ttl: renew it if it is ours, take it if it has expired (or
    never existed). False while another holder's lease runs. Each step is one statement,
    so two instances never both succeed."""
    until = now + ttl
    if await Lease.filter(name=name, holder=holder).update(expires_at=until):
        return True
    if await Lease.filter(name=name, expires_at__lt=now).update(
            holder=holder, expires_at=until, taken_at=now):
        return True
    try:
        async with in_transaction():  # a savepoint: a lost race must not end a caller's
            await Lease.create(name=name, holder=holder, expires_at=until, taken_at=now)
    except IntegrityError:  # another instance created it first
        return False
    return True


async def release(name: str, holder: str) -> None:
    """Let go at once (a clean stop): another instance need not wait for the expiry."""
    await Lease.filter(name=name, holder=holder).delete()


async def holder_of(name: str, now: datetime) -> str | None:
    """Who holds `name` now, or None."""
    lease = await Lease.get_or_none(name=name, expires_at__gte=now)
    return lease.holder if lease else None


def claimable(holder: str, now: datetime) -> Q:
    """Rows with a `claimed_by` column that `holder` may claim: unclaimed, its own, or
    claimed by an instance whose lease has expired (it died, or lost the database)."""
    live = Lease.filter(name__startswith=INSTANCE, expires_at__gte=now).values("holder")
    return Q(claimed_by="") | Q(claimed_by=holder) | ~Q(claimed_by__in=Subquery(live))


def dead_claims(now: datetime) -> Q:
    """Rows claimed by an instance whose lease has expired (not unclaimed ones)."""
    live = Lease.filter(name__startswith=INSTANCE, expires_at__gte=now).values("holder")
    return ~Q(claimed_by="") & ~Q(claimed_by__in=Subquery(live))


async def forget_dead(now: datetime, after: timedelta = timedelta(days=1)) -> int:
    """Delete instance leases expired for longer than `after` (restarts leave one each)."""
    return int(await Lease.filter(name__startswith=INSTANCE,
                                  expires_at__lt=now - after).delete())


@dataclass
class Keeper:
    """Holds one lease while this process lives: tries to take it every ttl/3, runs
    `on_taken` when it gets it and `on_lost` when it loses it (a renewal that fails
    until the lease has run out: another instance may hold it by then)."""

    name: str
    holder: str
    ttl: timedelta
    clock: Clock
    on_taken: Work | None = None
    on_lost: Work | None = None
    holding: bool = False
    _until: datetime | None = None
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self) -> None:
        """One try now (with one instance it is taken before start returns, and its work
        failing to start raises, as at start-up it should), then renewals in the
        background."""
        await self.tick(first=True)
        self._task = asyncio.create_task(self._run(), name=f"lease {self.name}")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.ttl.total_seconds() / 3)
            await self.tick()

    async def tick(self, *, first: bool = False) -> None:
        now = self.clock.now()
        try:
            held = await take(self.name, self.holder, self.ttl, now)
        except Exception as exc:  # the database is away: ours until it runs out
            log.warning("lease %s: renewal failed: %s", self.name, exc)
            held = self.holding and self._until is not None and now < self._until
        else:
            self._until = now + self.ttl if held else None
        if held and not self.holding:
            await self._taken(first)
        elif not held and self.holding:
            log.warning("lease %s: lost; another instance takes over", self.name)
            self.holding = False
            await _quietly(self.on_lost, self.name)

    async def _taken(self, first: bool) -> None:
        log.info("lease %s: taken by %s", self.name, self.holder)
        self.holding = True
        if self.on_taken is None:
            return
        try:
            await self.on_taken()
        except Exception:  # let another instance try: this one may be what is broken
            self.holding = False
            await _quietly(self.on_lost, self.name)
            with contextlib.suppress(Exception):
                await release(self.name, self.holder)
            if first:
                raise
            log.exception("lease %s: starting its work failed; lease released", self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.holding:
            self.holding = False
            await _quietly(self.on_lost, self.name)
        with contextlib.suppress(Exception):  # the database may be gone: it expires
            await release(self.name, self.holder)


@dataclass(frozen=True)
class Leases:
    """This instance's terms for every lease it keeps: its name, the ttl, the clock."""

    holder: str
    ttl: timedelta
    clock: Clock

    def keeper(self, name: str, on_taken: Work | None = None,
               on_lost: Work | None = None) -> Keeper:
        return Keeper(name, self.holder, self.ttl, self.clock, on_taken, on_lost)

    def claimant(self) -> Keeper:
        """The lease that says this instance lives: its claims last as long as it."""
        return self.keeper(INSTANCE + self.holder)


async def _quietly(work: Work | None, name: str) -> None:
    if work is None:
        return
    try:
        await work()
    except Exception:
        log.exception("lease %s: stopping its work failed", name)


# ---- turns: one instance per scheduler tick ---------------------------------------------------

class Turns:
    """Scheduler ticks that run in one instance at a time. On PostgreSQL, a session-level
    advisory lock per tick on one connection of our own: pg_try_advisory_lock does not
    wait, so an instance whose turn it is not skips the tick (another runs it). Without
    PostgreSQL (SQLite: one instance) every turn is ours."""

    def __init__(self) -> None:
        self._connection: Any = None  # asyncpg.Connection
        self._credentials: dict[str, Any] | None = None  # None: SQLite, every turn ours
        self._lock = asyncio.Lock()  # one statement at a time on the connection

    async def open(self, credentials: dict[str, Any] | None) -> None:
        """Connect with the PostgreSQL credentials (tortoise's expand_db_url), or not."""
        wanted = ("host", "port", "user", "password", "database")
        self._credentials = None if credentials is None else {
            k: credentials[k] for k in wanted if credentials.get(k) is not None}
        await self._connect()

    async def _connect(self) -> None:
        if self._credentials is not None and (self._connection is None
                                              or self._connection.is_closed()):
            import asyncpg  # type: ignore[import-untyped]

            self._connection = await asyncpg.connect(**self._credentials)

    async def close(self) -> None:
        self._credentials = None
        await self._drop()

    async def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None

    @contextlib.asynccontextmanager
    async def turn(self, name: str) -> AsyncIterator[bool]:
        """Whether this instance runs tick `name` now; held until the block ends."""
        if self._credentials is None:
            yield True
            return
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        async with self._lock:
            try:  # a connection lost (a database restart) is made again for the next tick
                await self._connect()
                ours = bool(await self._connection.fetchval("SELECT pg_try_advisory_lock($1)",
                                                            key))
            except Exception:
                await self._drop()
                raise
        try:
            yield ours
        finally:
            if ours:
                async with self._lock:
                    with contextlib.suppress(Exception):  # a lost session dropped it
                        await self._connection.execute("SELECT pg_advisory_unlock($1)", key)

    def claimed(self, name: str, tick: Work) -> Work:
        """`tick`, run only when it is this instance's turn."""
        async def run() -> None:
            async with self.turn(name) as ours:
                if ours:
                    await tick()
        return run


# ---- SQLite: one instance -------------------------------------------------------------------

class SecondInstance(RuntimeError):
    """Another `serve` runs on this SQLite database."""


def hold_sqlite(database: Path) -> IO[str] | None:
    """Lock <database>.serve.lock for this process (flock: the kernel releases it when
    the process ends, however it ends); keep the returned file open while serving.
    Raises SecondInstance naming the holder's pid when another `serve` holds it; None
    when the folder cannot be written (the writability check after says so)."""
    path = database.with_name(database.name + ".serve.lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as exc:
        log.warning("%s: cannot lock: %s", path, exc)
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "unknown"
        handle.close()
        raise SecondInstance(f"another invoicebot serve (pid {pid}) runs on this SQLite "
                             "database; SQLite means one instance (run more than one on "
                             "PostgreSQL)") from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
