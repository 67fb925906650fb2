"""The vault in an S3-compatible object store, through aiobotocore (vault.storage).

Object keys are the document store's keys under the configured prefix:
s3://invoices/prod + sha256/ab/cd/<hash>.pdf -> s3://invoices/prod/sha256/ab/cd/<hash>.pdf.
Credentials come from botocore's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, instance roles), never from config.toml.

One client per storage, made on first use in the running event loop (aiohttp binds its
connection pool to it) and closed by `close()`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from aiobotocore.session import get_session
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from vault.config_vault import VaultConfig
from vault.storage import CHUNK, PRESIGN_TTL, StoredObjectCorrupt, StoredObjectMissing

log = logging.getLogger("invoicebot.storage")
PROBE_KEY = ".write-probe"  # /readyz and start-up write it: a real PUT, one small object
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    def __init__(self, config: VaultConfig) -> None:
        self.config = config
        self.url = config.url
        self.folder: Path | None = None
        self._client: Any = None
        self._exit = AsyncExitStack()
        self._opening = asyncio.Lock()

    def object_key(self, key: str) -> str:
        return f"{self.config.prefix}/{key}" if self.config.prefix else key

    async def client(self) -> Any:
        async with self._opening:
            if self._client is None:
                session = get_session()
                self._client = await self._exit.enter_async_context(session.create_client(
                    "s3", endpoint_url=self.config.s3_endpoint or None,
                    region_name=self.config.s3_region or None,
                    # Path-style: S3-compatible stores (MinIO, Ceph, moto) need no DNS per bucket.
                    config=BotoConfig(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 3, "mode": "standard"})))
            return self._client

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        size = await self.size(key)
        if size is not None:
            if size != len(data):
                raise StoredObjectCorrupt(f"{self.url}: {key} exists with a different size")
            return
        client = await self.client()
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        try:
            # If-None-Match: an object another instance wrote meanwhile is kept, never
            # replaced; the checksum makes the store refuse bytes damaged on the way.
            await client.put_object(Bucket=self.config.bucket, Key=self.object_key(key),
                                    Body=data, ContentType=content_type,
                                    ChecksumSHA256=checksum, IfNoneMatch="*")
        except ClientError as exc:
            if _code(exc) not in {"PreconditionFailed", "ConditionalRequestConflict"}:
                raise

    async def size(self, key: str) -> int | None:
        client = await self.client()
        try:
            head = await client.head_object(Bucket=self.config.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise
        return int(head["ContentLength"])

    async def chunks(self, key: str, chunk_size: int = CHUNK) -> AsyncGenerator[bytes, None]:
        client = await self.client()
        try:
            answer = await client.get_object(Bucket=self.config.bucket,
                                             Key=self.object_key(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise StoredObjectMissing(f"{self.url}: {key} is missing") from None
            raise
        async with answer["Body"] as body:  # released to the pool even if not read to the end
            while chunk := await body.read(chunk_size):
                yield chunk

    async def presigned_url(self, key: str, disposition: str, content_type: str) -> str | None:
        if not self.config.s3_presign:
            return None
        client = await self.client()
        url: str = await client.generate_presigned_url(
            "get_object", ExpiresIn=PRESIGN_TTL,
            Params={"Bucket": self.config.bucket, "Key": self.object_key(key),
                    # the store answers with our file name and type, as our own response would
                    "ResponseContentDisposition": disposition,
                    "ResponseContentType": content_type,
                    "ResponseCacheControl": "no-store"})
        return url

    async def problem(self) -> str | None:
        try:
            client = await self.client()
            await client.put_object(Bucket=self.config.bucket, Key=self.object_key(PROBE_KEY),
                                    Body=b"")
        except (ClientError, BotoCoreError, OSError) as exc:
            return str(exc)
        return None

    async def close(self) -> None:
        await self._exit.aclose()
        self._client = None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
