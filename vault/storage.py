"""Where the vault's bytes live: a folder (the embedded default) or an S3-compatible store.

The document store (vault.documents) addresses every file by the SHA-256 of its bytes, so a
key is written once and never changed or deleted; a Storage only has to put once, say
whether a key is there and how big it is, and stream it back in chunks. Nothing here knows
about Document rows: vault.documents does, and every caller goes through it.

Pick one with `open_storage(config.vault)` ([vault] url, vault.config_vault) and close it
when done: an S3 storage holds a connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Protocol

from vault.config_vault import VaultConfig
from vault.writable import vault_problem

CHUNK = 64 * 1024  # what one read hands a response: small enough to keep memory flat
PRESIGN_TTL = 60  # seconds a presigned download URL is good for: the redirect is followed at once


class StoredObjectMissing(FileNotFoundError):
    """A key that should be in the storage is not (deleted or lost behind our back)."""


class StoredObjectCorrupt(RuntimeError):
    """A key holds something else than its content address promises."""


class Storage(Protocol):
    """Immutable objects under keys like sha256/ab/cd/<hash>.pdf."""

    url: str  # where, as configured (file:FOLDER or s3://BUCKET/PREFIX), for messages
    folder: Path | None  # the local root of a file storage (disk checks); None otherwise

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key` once, durably; an existing key of that size is kept."""

    async def size(self, key: str) -> int | None:
        """The stored object's size in bytes, or None when there is none."""

    def chunks(self, key: str, chunk_size: int = CHUNK) -> AsyncGenerator[bytes, None]:
        """The object's bytes in order, never all at once; StoredObjectMissing if absent."""

    async def presigned_url(self, key: str, disposition: str, content_type: str) -> str | None:
        """A short-lived URL a browser can fetch the object from, or None (not offered)."""

    async def problem(self) -> str | None:
        """Why nothing can be stored now (probed for real), or None when it can."""

    async def close(self) -> None:
        """Release connections; the storage is not used after this."""


def open_storage(config: VaultConfig) -> Storage:
    """The storage [vault] names (the S3 client is made on first use, in the caller's loop)."""
    if config.folder is not None:
        return FileStorage(config.folder)
    from vault.storage_s3 import S3Storage  # aiobotocore loads only for an S3 vault

    return S3Storage(config)


class FileStorage:
    """Files under a folder. Each is written through a temporary file that is fsynced and
    then hard-linked into place, so a reader never sees half a file and an existing file is
    never overwritten; files are read-only on disk too (immutable by convention)."""

    def __init__(self, folder: Path) -> None:
        self.folder: Path | None = Path(folder)
        self.root = Path(folder)
        self.url = f"file:{folder}"

    def path(self, key: str) -> Path:
        """The file of a key; a key that would climb out of the folder is refused."""
        path = self.root / key
        if ".." in Path(key).parts or Path(key).is_absolute():
            raise ValueError(f"storage key {key!r} escapes {self.root}")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(_write_once, self.path(key), data)

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self.path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def chunks(self, key: str, chunk_size: int = CHUNK) -> AsyncGenerator[bytes, None]:
        try:
            handle = await asyncio.to_thread(self.path(key).open, "rb")
        except FileNotFoundError:
            raise StoredObjectMissing(f"{self.url}: {key} is missing") from None
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def presigned_url(self, key: str, disposition: str, content_type: str) -> str | None:
        return None  # a folder has no URL of its own: we stream it

    async def problem(self) -> str | None:
        return await asyncio.to_thread(vault_problem, self.root)

    async def close(self) -> None:
        return None


def _write_once(target: Path, data: bytes) -> None:
    if target.exists():
        if target.stat().st_size != len(data):
            raise StoredObjectCorrupt(f"{target} exists with a different size")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, 0o400)  # immutable by convention, read-only on disk too
        # link, not replace: if another writer got there first, keep its file.
        with contextlib.suppress(FileExistsError):
            os.link(temp_name, target)
    finally:
        os.unlink(temp_name)
    # The new entries (file, and maybe sha256/ab/cd/ themselves) must be durable too.
    for directory in (target.parent, target.parent.parent, target.parent.parent.parent):
        _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
