"""The answers that carry documents: one PDF streamed from the vault's storage (or a
redirect to a presigned URL of it), or a ZIP of several built while it is sent.

Used by the signed links (vault.web) and the account page (bot.account.pages), after
their access checks and audit rows.
"""

from __future__ import annotations

import contextlib
import re
import stat
import zlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from stream_zip import NO_COMPRESSION_64, async_stream_zip

from vault.archive_index import INDEX_NAME, safe_member_name
from vault.documents import DocumentStore
from vault.models import Document

# On every download and refusal: nothing cached by browsers or proxies, no MIME sniffing
# turning a file into a page, and no Referer leaking the link to a third party.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(label: str, extension: str) -> str:
    """attachment; an ASCII-only filename plus the exact name as RFC 5987 filename*."""
    name = label.strip() or "invoice"
    if not name.lower().endswith(extension):
        name += extension
    ascii_name = _UNSAFE_NAME.sub("_", name).lstrip(".")[-120:] or f"invoice{extension}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


async def pdf_response(store: DocumentStore, document: Document, label: str,
                       method: str = "GET") -> Response:
    """One document, streamed from the store; or, where the store presigns ([vault]
    s3_presign), a 302 to a short-lived URL of it. Call it after the access check and the
    audit: the URL is as good as the file for its minute."""
    disposition = content_disposition(label, ".pdf")
    if method == "GET" and (url := await store.presigned_url(document, disposition)):
        return RedirectResponse(url, 302, headers=SECURITY_HEADERS)
    headers = {**SECURITY_HEADERS, "Content-Disposition": disposition}
    return StoredResponse(store, document, headers)


class StoredResponse(Response):
    """A stored document, streamed chunk by chunk (never whole in memory), with the
    Content-Length of its row; a HEAD gets the headers only."""

    def __init__(self, store: DocumentStore, document: Document, headers: dict[str, str]
                 ) -> None:
        super().__init__(media_type=document.content_type, headers=headers)
        self.headers["content-length"] = str(document.size)
        self.store, self.document = store, document

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        if scope["method"] != "HEAD":
            # aclosing: a client that goes away mid-file releases the store's stream now.
            async with contextlib.aclosing(self.store.read_chunks(self.document)) as chunks:
                async for chunk in chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def zip_head_response(label: str) -> Response:
    headers = {**SECURITY_HEADERS, "Content-Disposition": content_disposition(label, ".zip")}
    response = Response(media_type="application/zip", headers=headers)
    del response.headers["content-length"]  # unknown until streamed, as for the GET
    return response


def zip_response(
    store: DocumentStore, documents: list[Document], names: list[str] | None, label: str,
    index: bytes | None = None,
) -> Response:
    """A ZIP streamed as it is built: stored (PDFs do not compress), sizes and CRCs from
    the Document rows, so no member is ever buffered (the index is a few bytes a row).
    No Content-Length: chunked."""
    names = names or [f"document-{d.id}.pdf" for d in documents]
    safe = [safe_member_name(n, d) for n, d in zip(names, documents, strict=True)]
    headers = {**SECURITY_HEADERS, "Content-Disposition": content_disposition(label, ".zip")}
    body = async_stream_zip(_zip_members(store, documents, safe, index))
    return StreamingResponse(body, media_type="application/zip", headers=headers)


async def _zip_members(
    store: DocumentStore, documents: list[Document], names: list[str], index: bytes | None
) -> AsyncIterator[tuple[str, datetime, int, Any, AsyncIterator[bytes]]]:
    if index is not None:
        method = NO_COMPRESSION_64(len(index), zlib.crc32(index))
        newest = max(d.created_at for d in documents)
        yield INDEX_NAME, newest, stat.S_IFREG | 0o600, method, _bytes_chunks(index)
    for document, name in zip(documents, names, strict=True):
        method = NO_COMPRESSION_64(document.size, document.crc32)
        yield name, document.created_at, stat.S_IFREG | 0o600, method, store.read_chunks(document)


async def _bytes_chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data
