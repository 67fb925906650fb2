"""Idempotency-Key: for 24 hours, the same key (of the same API key) with the same request
gets the answer the first one got; with another request, 409.

The answer is stored after the call; a second call with the key while the first is still
running waits for it (a lock per key, in the process), so it is replayed, not run twice.
Answers of 5xx are not kept: the call may be retried under the same key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from vault.models import IdempotentAnswer

KEPT_FOR = timedelta(hours=24)
MAX_KEY = 255


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


@dataclass(frozen=True)
class Kept:
    status: int
    body: str


class Conflict(Exception):
    """The key was used for another request."""


@dataclass
class _Lock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # calls holding or waiting for it: it is dropped when none is left


@dataclass
class IdempotencyKeys:
    _locks: dict[tuple[int, str], _Lock] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def held(self, api_key: int, key: str) -> AsyncIterator[None]:
        """One call at a time per (API key, Idempotency-Key) in this process."""
        entry = self._locks.setdefault((api_key, key), _Lock())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if not entry.users:
                del self._locks[(api_key, key)]

    async def kept(self, api_key: int, key: str, digest: str, now: datetime) -> Kept | None:
        """The answer kept for this key, None if there is none; raises Conflict."""
        row = await IdempotentAnswer.get_or_none(api_key_id=api_key, key=key)
        if row is None:
            return None
        if row.created_at <= now - KEPT_FOR:
            await row.delete()
            return None
        if row.request_hash != digest:
            raise Conflict
        return Kept(row.status, row.body)

    async def keep(self, api_key: int, key: str, digest: str, answer: Kept,
                   now: datetime) -> None:
        # A 5xx, or a 409 that says "retry" (a concurrent store), is no answer to keep: the
        # client is told to try again with the same key.
        if answer.status >= 500 or answer.status == 409:
            return
        # IntegrityError: another process answered the same key meanwhile; its answer stays.
        with contextlib.suppress(IntegrityError):
            await IdempotentAnswer.create(api_key_id=api_key, key=key, request_hash=digest,
                                          status=answer.status, body=answer.body,
                                          created_at=now)


async def forget_expired(now: datetime) -> int:
    return await IdempotentAnswer.filter(created_at__lte=now - KEPT_FOR).delete()
