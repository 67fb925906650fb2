"""Group commit: rows that arrive together are written in one transaction, one fsync.

A channel that must not acknowledge a message before it is stored (SMTP's 250, a chat
platform's 200) pays a commit per message, and on SQLite with synchronous=FULL (or
PostgreSQL with synchronous_commit=on) a commit waits for the disk. When many
connections deliver at once, one writer takes every row that is waiting, writes them
all in one transaction and commits once; each waiter is told its own row's result only
after that commit, so no acknowledgement ever runs ahead of its row being durable.

There is no timer: a lone row is committed at once, as before. Rows gather only while
the previous commit is on its way to the disk, which is exactly when waiting is free.

One row's error must not fail the rows it happened to share a transaction with: when a
batch fails for a reason of one row's own (a unique key another instance stored
meanwhile, a value the database refuses), its rows are written again one per
transaction and only that row's waiter gets the error. When the database itself fails
(locked past busy_timeout, disk full, connection lost), every waiter gets the error at
once: trying the same rows one by one would only fail each of them again, slowly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from tortoise import Model, connections
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from vault import metrics

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")
MAX_BATCH = 256  # rows per transaction: bounds how long one commit holds SQLite's lock


class GroupCommit(Generic[Item, Result]):
    """Rows for one table, written by one writer task in shared transactions.

    `write(items)` runs inside the transaction the committer opens and returns one result
    per item, in order; it must leave nothing half-done outside that transaction. It should
    treat items that repeat within one batch, or a row already stored, as it would across
    batches (a batch is only what happened to wait together).
    """

    def __init__(self, table: type[Model], write: Callable[[list[Item]], Awaitable[list[Result]]],
                 *, max_batch: int = MAX_BATCH) -> None:
        self.table = table
        self.write = write
        self.max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return str(self.table._meta.db_table)

    async def submit(self, item: Item) -> Result:
        """Store `item` with whatever else is waiting; returns once it is committed.

        Raises what writing it raised. A caller cancelled while waiting leaves its item to
        be written or not; either way no one is told it was stored.
        """
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain(), name=f"group-commit:{self.name}")
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:self.max_batch]
                del self._waiting[:self.max_batch]
                batch = [(item, future) for item, future in batch if not future.done()]
                if batch:
                    await self._commit(batch)
        finally:  # also when cancelled: no waiter may hang
            self._writer = None
            for _, future in self._waiting:
                future.cancel()
            self._waiting.clear()

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._transaction([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1 or _shared_fault(exc):
                for _, future in batch:
                    _fail(future, exc)
                return
            log.info("%s: a shared commit of %d rows failed (%s); writing them one by one",
                     self.name, len(batch), type(exc).__name__)
            for one in batch:
                await self._commit([one])
            return
        except BaseException as exc:  # cancelled: the transaction was rolled back
            for _, future in batch:
                future.cancel()
            raise exc
        metrics.group_committed(self.name, len(batch))
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _transaction(self, items: list[Item]) -> list[Result]:
        async with in_transaction() as connection:
            await _lock_for_writing(connection, self.table)
            return await self.write(items)


def _shared_fault(exc: BaseException) -> bool:
    """The database failed, not one row: locked, full, gone."""
    if isinstance(exc, IntegrityError):
        return False
    return isinstance(exc, (OperationalError, OSError, TimeoutError))


def _fail(future: asyncio.Future[Any], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)


async def _lock_for_writing(connection: Any, table: type[Model]) -> None:
    """On SQLite, take the write lock first, as BEGIN IMMEDIATE would (Tortoise says only
    BEGIN): a transaction that reads, then writes fails at once with "database is
    locked" when another process committed in between, where waiting for the lock first is
    covered by busy_timeout. The UPDATE matches no row. PostgreSQL needs nothing here."""
    if connections.get("default").capabilities.dialect == "sqlite":
        await connection.execute_query(
            f'UPDATE "{table._meta.db_table}" SET "id" = "id" WHERE "id" = -1')
