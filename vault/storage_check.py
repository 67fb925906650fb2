"""Checking a vault, and copying it to another storage, document by document.

Both walk the Document rows (the database says what the vault must hold), a few documents
at a time, and hash each stored object as it streams: nothing is trusted because it is
there. `verify` names every missing or corrupt document; `copy_documents` is resumable
(an object already at the target with the right hash is skipped) and checks each copy by
reading it back from the target.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from vault.documents import DocumentStore
from vault.models import Document
from vault.storage import Storage, StoredObjectCorrupt, StoredObjectMissing

_BATCH = 200  # rows read at once
_AT_ONCE = 8  # documents hashed or copied concurrently (S3 round trips overlap)


@dataclass(frozen=True)
class Problem:
    """A document the storage does not hold as its row says."""

    document_id: int
    key: str
    what: str  # "missing" or "corrupt"
    detail: str = ""

    def __str__(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"document {self.document_id} {self.what}: {self.key}{detail}"


@dataclass
class Tally:
    """What a walk did; `problems` names each document that went wrong."""

    checked: int = 0
    copied: int = 0
    skipped: int = 0  # already at the target, whole
    problems: list[Problem] = field(default_factory=list)


async def digest(storage: Storage, key: str) -> tuple[str, int]:
    """The SHA-256 (hex) and size of a stored object, streamed; StoredObjectMissing if absent."""
    hashing, size = hashlib.sha256(), 0
    async for chunk in storage.chunks(key):
        hashing.update(chunk)
        size += len(chunk)
    return hashing.hexdigest(), size


async def check(storage: Storage, document: Document) -> Problem | None:
    """Whether the storage holds exactly the document's bytes (by hash and size)."""
    key = document.storage_key
    try:
        found, size = await digest(storage, DocumentStore(storage).key(document))
    except StoredObjectMissing:
        return Problem(document.id, key, "missing")
    except ValueError as exc:  # a row whose key would leave the store
        return Problem(document.id, key, "corrupt", str(exc))
    if (found, size) != (document.sha256, document.size):
        return Problem(document.id, key, "corrupt", f"sha256 {found[:12]}…, {size} bytes; "
                       f"expected {document.sha256[:12]}…, {document.size} bytes")
    return None


async def verify(store: DocumentStore, each: Callable[[], None] = lambda: None) -> Tally:
    """Check every document's hash and size in the store."""
    tally = Tally()

    async def one(document: Document) -> Problem | None:
        return await check(store.storage, document)

    return await _tally(tally, one, each)


async def copy_documents(source: DocumentStore, target: Storage,
                         each: Callable[[], None] = lambda: None) -> Tally:
    """Copy every document from source to target, skipping those already there whole."""
    tally = Tally()

    async def one(document: Document) -> Problem | None:
        return await _copy(source, target, document, tally)

    return await _tally(tally, one, each)


async def _tally(tally: Tally, step: Callable[[Document], Awaitable[Problem | None]],
                 each: Callable[[], None]) -> Tally:
    """`step` over every document, its problems in `tally`, sorted by document."""
    async def one(document: Document) -> None:
        if (problem := await step(document)) is not None:
            tally.problems.append(problem)
        tally.checked += 1
        each()

    await _walk(one)
    tally.problems.sort(key=lambda p: p.document_id)
    return tally


async def _copy(source: DocumentStore, target: Storage, document: Document,
                tally: Tally) -> Problem | None:
    key = source.key(document)
    if await target.size(key) == document.size and await check(target, document) is None:
        tally.skipped += 1  # a resumed copy: this one made it last time
        return None
    try:
        # One document in memory at a time: a PDF, rarely more than a few hundred KB.
        data = await source.read(document)
    except StoredObjectMissing:
        return Problem(document.id, key, "missing", f"not in the source {source.storage.url}")
    if (hashlib.sha256(data).hexdigest(), len(data)) != (document.sha256, document.size):
        return Problem(document.id, key, "corrupt", f"in the source {source.storage.url}")
    try:
        await target.put(key, data, document.content_type)
    except StoredObjectCorrupt as exc:
        return Problem(document.id, key, "corrupt", f"{exc} (remove it and run again)")
    if (problem := await check(target, document)) is not None:
        return Problem(document.id, key, problem.what,
                       f"at the target {target.url} after copying (remove it and run again)")
    tally.copied += 1
    return None


async def count() -> int:
    return await Document.all().count()


async def _walk(one: Callable[[Document], Awaitable[None]]) -> None:
    limit = asyncio.Semaphore(_AT_ONCE)

    async def bounded(document: Document) -> None:
        async with limit:
            await one(document)

    async for batch in _batches():
        await asyncio.gather(*(bounded(d) for d in batch))


async def _batches() -> AsyncIterator[list[Document]]:
    after = 0
    while batch := await Document.filter(id__gt=after).order_by("id").limit(_BATCH):
        after = batch[-1].id
        yield batch
