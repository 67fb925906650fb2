"""The HTTP app: a health check and the signed download links.

GET /d/{token} re-checks the grant row on every request (vault.links.check_grant), then
streams the one PDF from disk, or a ZIP of several built on the fly in constant memory
(also for one document when the grant's label names a .zip: "as zip" means a ZIP). A ZIP
holds the PDFs named by invoice number and an index.csv listing them.
Every refusal (tampered, unknown, expired, revoked, contact deactivated) gets the same
status and the same page, so a link's state cannot be probed, and is audited with its
reason. The token is a bearer credential: it is never logged or audited; our access log
redacts it, which is why the service runs uvicorn with access_log=False.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import shutil
import stat
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from stream_zip import NO_COMPRESSION_64, async_stream_zip
from tortoise import connections

from vault import audit, metrics
from vault.archive_index import INDEX_NAME, archive_index, safe_member_name
from vault.clock import Clock
from vault.config import Config
from vault.http_limits import BodyLimit
from vault.links import (
    LinkSigner,
    Refusal,
    check_grant,
    granted_documents,
    redact_path,
)
from vault.models import Contact, Document, Grant
from vault.writable import database_problem, vault_problem

log = logging.getLogger("invoicebot.web")
access_log = logging.getLogger("invoicebot.access")

# On every download and refusal: nothing cached by browsers or proxies, no MIME sniffing
# turning a file into a page, and no Referer leaking the link to a third party.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PAGE_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Frame-Options": "DENY",
}
# 410 Gone for every refusal: "no longer valid" is what the page says, and one status for
# all reasons means a stranger learns nothing from it.
REFUSED_STATUS = 410
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_CHUNK = 64 * 1024


def create_app(
    config: Config,
    store_root: Path,
    signer: LinkSigner,
    clock: Clock,
    extra_routes: Sequence[BaseRoute] = (),
    not_found: Callable[[Request, Exception], Awaitable[Response]] | None = None,
    free_disk: Callable[[Path], int] | None = None,  # bytes free at a path; tests inject
) -> Starlette:
    """The ASGI app; the composition root adds the Slack and Telegram routes via extra_routes
    (and the API's, with its JSON answer for a path no route matches)."""
    downloads = Downloads(store_root, signer, refused_page(config.email.sender), clock)
    readiness = Readiness(store_root, config.min_free_disk, free_disk or disk_free,
                          config.database_url)
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readiness.get, methods=["GET"]),
        Route("/d/{token}", downloads.get, methods=["GET"]),  # Starlette adds HEAD
        *extra_routes,
    ]
    handlers = {} if not_found is None else {404: not_found}
    # BodyLimit first: no handler ever reads more of a body than its route's cap.
    middleware = [Middleware(BodyLimit, limits=config.http_limits), Middleware(AccessLog)]
    if config.public_url.startswith("https://"):  # links are https: browsers must keep to it
        middleware.append(Middleware(StrictTransport))
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
    app.state.refused_links = downloads.refusals  # the service flushes its counts
    return app


def refused_page(sender: str) -> str:
    """The one refusal page: how to get a fresh link from the invoices address."""
    template = files("vault").joinpath("templates/refused.html").read_text("utf-8")
    return Template(template).substitute(sender=html.escape(sender))


async def _ping_database() -> None:
    await connections.get("default").execute_query("SELECT 1")


async def healthz(request: Request) -> JSONResponse:
    """200 if a trivial query succeeds, else 503, so a load balancer stops sending traffic."""
    try:
        await _ping_database()
    except Exception:  # any failure means "not healthy"; the log says which
        log.warning("health check: database query failed", exc_info=True)
        return JSONResponse({"status": "error", "database": "error"}, 503, SECURITY_HEADERS)
    return JSONResponse({"status": "ok", "database": "ok"}, headers=SECURITY_HEADERS)


def disk_free(path: Path) -> int:
    return shutil.disk_usage(path).free


class Readiness:
    """GET /readyz: 503 when the database or the vault cannot be written, or free disk under
    the vault is below http.min_free_disk, so a load balancer stops sending mail and uploads
    to a node that cannot store them; the body says which. /healthz stays the liveness check
    (the process answers and can read: restart only when it fails)."""

    def __init__(self, store_root: Path, min_free: int, free_disk: Callable[[Path], int],
                 database_url: str) -> None:
        self.store_root = store_root
        self.min_free = min_free
        self.free_disk = free_disk
        self.database_url = database_url

    async def get(self, request: Request) -> JSONResponse:
        checks = {"database": "ok", "vault": "ok", "disk": "ok"}
        problem = await database_problem(self.database_url)
        if problem is not None:
            log.warning("readiness check: database not writable: %s", problem)
            checks["database"] = f"not writable: {problem}"
        problem = await asyncio.to_thread(vault_problem, self.store_root)
        if problem is not None:
            log.warning("readiness check: vault %s not writable: %s", self.store_root, problem)
            checks["vault"] = f"not writable: {problem}"
        free = await asyncio.to_thread(self.free_disk, self._existing(self.store_root))
        if free < self.min_free:
            log.warning("readiness check: %d MB free under %s, below %d MB", free >> 20,
                        self.store_root, self.min_free >> 20)
            checks["disk"] = "low"
        ready = all(value == "ok" for value in checks.values())
        body = {"status": "ok" if ready else "error", **checks, "disk_free": free}
        return JSONResponse(body, 200 if ready else 503, SECURITY_HEADERS)

    @staticmethod
    def _existing(path: Path) -> Path:
        """The vault folder, or its nearest existing parent before the first PDF."""
        while not path.exists() and path != path.parent:
            path = path.parent
        return path


class Downloads:
    """GET /d/{token}: one PDF, or a ZIP when the grant names several documents."""

    def __init__(self, store_root: Path, signer: LinkSigner, refused_html: str,
                 clock: Clock) -> None:
        self.store_root = store_root.resolve()
        self.signer = signer
        self.refused_html = refused_html
        self.clock = clock  # the service's: a link expires on the clock that granted it
        # Refusals are what anonymous traffic causes: sampled, one row per IP per minute.
        self.refusals = audit.SampledAudit("vault.link.refused")

    async def get(self, request: Request) -> Response:
        checked = await check_grant(self.signer, request.path_params["token"], self.clock.now())
        if isinstance(checked, Refusal):
            return await self.refuse(request, checked)
        grant, contact = checked
        documents = await granted_documents(grant, contact)
        if documents is None:
            why = Refusal("document_unavailable", grant.id, contact.id, contact.account_id)
            return await self.refuse(request, why)
        paths = [self.path(d) for d in documents]
        if not all(p.is_file() for p in paths):
            log.error("grant %s: a document file is missing from %s", grant.id, self.store_root)
            return HTMLResponse("File temporarily unavailable.", 503, PAGE_HEADERS)
        if request.method == "GET":  # a HEAD (link preview, mail scanner) is no download
            await record_downloads(request, grant, contact, documents)
            metrics.downloaded(len(documents))
        if len(documents) == 1 and not grant.label.lower().endswith(".zip"):
            return pdf_response(paths[0], documents[0], grant.label)
        if request.method == "HEAD":  # the ZIP is built while sent: don't build it for nothing
            return zip_head_response(grant.label)
        names, index = await archive_index(contact, documents)
        return zip_response(paths, documents, names, grant.label, index)

    def path(self, document: Document) -> Path:
        # vault.documents.DocumentStore(root).path(document) owns this layout; until it
        # lands we join here, refusing any key that would climb out of the store.
        path = (self.store_root / document.storage_key).resolve()
        if not path.is_relative_to(self.store_root):
            raise ValueError(f"document {document.id}: storage key escapes the store")
        return path

    async def refuse(self, request: Request, why: Refusal) -> Response:
        await self.refusals.record(
            account_id=why.account_id,
            contact_id=why.contact_id,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            reason=why.reason,
            grant=why.grant_id,
        )
        metrics.page_viewed("link_refused")
        return HTMLResponse(self.refused_html, REFUSED_STATUS, PAGE_HEADERS)


def client_ip(request: Request) -> str:
    # Behind a proxy, uvicorn's proxy_headers/forwarded_allow_ips set this from X-Forwarded-For.
    return request.client.host if request.client else ""


async def record_downloads(
    request: Request, grant: Grant, contact: Contact, documents: list[Document]
) -> None:
    """One audit row per document served; the grant id, never the token."""
    for document in documents:
        await audit.record(
            "vault.document.download",
            account_id=contact.account_id,
            contact_id=contact.id,
            document_id=document.id,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            grant=grant.id,
        )


def content_disposition(label: str, extension: str) -> str:
    """attachment; an ASCII-only filename plus the exact name as RFC 5987 filename*."""
    name = label.strip() or "invoice"
    if not name.lower().endswith(extension):
        name += extension
    ascii_name = _UNSAFE_NAME.sub("_", name).lstrip(".")[-120:] or f"invoice{extension}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def pdf_response(path: Path, document: Document, label: str) -> Response:
    headers = {**SECURITY_HEADERS, "Content-Disposition": content_disposition(label, ".pdf")}
    # Content-Length comes from the file itself, so it is right even for a HEAD.
    return FileResponse(path, headers=headers, media_type=document.content_type)


def zip_head_response(label: str) -> Response:
    headers = {**SECURITY_HEADERS, "Content-Disposition": content_disposition(label, ".zip")}
    response = Response(media_type="application/zip", headers=headers)
    del response.headers["content-length"]  # unknown until streamed, as for the GET
    return response


def zip_response(
    paths: list[Path], documents: list[Document], names: list[str] | None, label: str,
    index: bytes | None = None,
) -> Response:
    """A ZIP streamed as it is built: stored (PDFs do not compress), sizes and CRCs from
    the Document rows, so no member is ever buffered (the index is a few bytes a row).
    No Content-Length: chunked."""
    names = names or [f"document-{d.id}.pdf" for d in documents]
    safe = [safe_member_name(n, d) for n, d in zip(names, documents, strict=True)]
    headers = {**SECURITY_HEADERS, "Content-Disposition": content_disposition(label, ".zip")}
    body = async_stream_zip(_zip_members(paths, documents, safe, index))
    return StreamingResponse(body, media_type="application/zip", headers=headers)


async def _zip_members(
    paths: list[Path], documents: list[Document], names: list[str], index: bytes | None
) -> AsyncIterator[tuple[str, datetime, int, Any, AsyncIterator[bytes]]]:
    if index is not None:
        method = NO_COMPRESSION_64(len(index), zlib.crc32(index))
        newest = max(d.created_at for d in documents)
        yield INDEX_NAME, newest, stat.S_IFREG | 0o600, method, _bytes_chunks(index)
    for path, document, name in zip(paths, documents, names, strict=True):
        method = NO_COMPRESSION_64(document.size, document.crc32)
        yield name, document.created_at, stat.S_IFREG | 0o600, method, _file_chunks(path)


async def _bytes_chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        while chunk := await handle.read(_CHUNK):
            yield chunk


class StrictTransport:
    """ASGI middleware: Strict-Transport-Security on every answer when http.public_url is
    https (a reverse proxy terminates TLS in front of us)."""

    HEADER = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.HEADER]
            await send(message)

        await self.app(scope, receive, send_with_hsts if scope["type"] == "http" else send)


class AccessLog:
    """ASGI middleware: one access-log line per request, with link tokens redacted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            client = scope.get("client")
            access_log.info(
                '%s "%s %s" %d %.1fms',
                client[0] if client else "-",
                scope["method"],
                redact_path(scope["path"]),
                status,
                (time.perf_counter() - started) * 1000,
            )
