"""This `serve` among others on one database (vault.leases holds the rules).

On SQLite it is alone: an OS lock next to the database file says so, and a second `serve`
is refused at start-up. On PostgreSQL any number share the work: each scheduler tick is
taken in turns, this instance keeps a lease that says it lives, and puts its name on
the inbound rows and outgoing messages it claims, so that when it dies the others take
them over as soon as that lease has expired.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from bot.errors import StartupError
from bot.inbound import InboundQueue
from vault import db
from vault.leases import Keeper, Leases, SecondInstance, Turns, Work, hold_sqlite
from vault.writable import sqlite_path


@dataclass
class Sharing:
    leases: Leases  # this instance's name, the lease time and the clock
    shared: bool = False  # other instances may share the database (PostgreSQL)
    _turns: Turns = field(default_factory=Turns)
    _sqlite_lock: IO[str] | None = None  # held while serving: one instance on SQLite
    _alive: Keeper | None = None

    async def open(self, url: str, where: str) -> None:
        """Before the database is used: on SQLite take it for this instance alone (or raise
        StartupError naming the `serve` that has it), on PostgreSQL connect for turns."""
        connection = db.tortoise_config(url)["connections"]["default"]
        self.shared = connection["engine"] != "tortoise.backends.sqlite"
        if self.shared:
            await self._turns.open(connection["credentials"])
            return
        path = sqlite_path(url)
        try:
            if path is not None:
                self._sqlite_lock = await asyncio.to_thread(hold_sqlite, path)
        except SecondInstance as exc:
            raise StartupError(f"{where}: {exc}") from None

    @property
    def claimant(self) -> str:
        """This instance's name on what it claims; "" when it is alone (SQLite)."""
        return self.leases.holder if self.shared else ""

    async def join(self, queues: Iterable[InboundQueue[Any]]) -> None:
        """Shared: take this instance's lease, and claim inbound rows in its name."""
        if not self.shared:
            return
        self._alive = self.leases.claimant()
        await self._alive.start()
        for queue in queues:
            queue.claimant = self.claimant

    def claimed(self, name: str, tick: Work) -> Work:
        """`tick`, run when it is this instance's turn (vault.leases.Turns)."""
        return self._turns.claimed(name, tick)

    async def leave(self) -> None:
        """A clean stop: let go of the lease, so what this instance held is taken over at
        once rather than when it expires."""
        if self._alive is not None:
            await self._alive.stop()
            self._alive = None

    async def close(self) -> None:
        await self._turns.close()
        if self._sqlite_lock is not None:
            self._sqlite_lock.close()  # the next serve may start
            self._sqlite_lock = None
