"""The HTTP app: a health check and the signed download links.

GET /d/{token} re-checks the grant row on every request (vault.links.check_grant), then
streams the one PDF from the vault's storage (or, with [vault] s3_presign, redirects to a
short-lived presigned URL of it), or a ZIP of several built on the fly in constant memory
(also for one document when the grant's label names a .zip: "as zip" means a ZIP). A ZIP
holds the PDFs named by invoice number and an index.csv listing them.
Every refusal (tampered, unknown, expired, revoked, contact deactivated) gets the same
status and the same page, so a link's state cannot be probed, and is audited with its
reason. The token is a bearer credential: it is never logged or audited; our access log
redacts it, which is why the service runs uvicorn with access_log=False.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    Response,
)
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import connections

from vault import access_watch, audit, metrics, pages, stepup
from vault.archive_index import archive_index
from vault.clock import Clock
from vault.config import Config
from vault.config_access import StepUpRules
from vault.documents import DocumentStore
from vault.http_limits import BodyLimit
from vault.links import (
    LinkSigner,
    Refusal,
    check_grant,
    granted_documents,
    redact_path,
)
from vault.models import Account, Contact, Document, Grant
from vault.web_files import (  # the answers that carry documents
    SECURITY_HEADERS,
    pdf_response,
    zip_head_response,
    zip_response,
)
from vault.writable import database_problem

log = logging.getLogger("invoicebot.web")
access_log = logging.getLogger("invoicebot.access")

PAGE_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Frame-Options": "DENY",
}
# 410 Gone for every refusal: "no longer valid" is what the page says, and one status for
# all reasons means a stranger learns nothing from it.
REFUSED_STATUS = 410


# GET /d/{token} of a contact whose documents go through the account page (step-up):
# the page to show instead of the file (bot.account.opening).
ThroughPage = Callable[[Request, Grant, Contact, list[Document]], Awaitable[Response]]


def create_app(
    config: Config,
    store: DocumentStore,
    signer: LinkSigner,
    clock: Clock,
    extra_routes: Sequence[BaseRoute] = (),
    not_found: Callable[[Request, Exception], Awaitable[Response]] | None = None,
    free_disk: Callable[[Path], int] | None = None,  # bytes free at a path; tests inject
    through_page: ThroughPage | None = None,
) -> Starlette:
    """The ASGI app; the composition root adds the Slack and Telegram routes via extra_routes
    (and the API's, with its JSON answer for a path no route matches)."""
    downloads = Downloads(store, signer, config.email.sender, clock,
                          config.access.step_up, through_page)
    readiness = Readiness(store, config.min_free_disk, free_disk or disk_free,
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


@functools.cache
def refused_page(sender: str, language: str = "en") -> str:
    """The one refusal page: how to get a fresh link from the invoices address, in the
    language of the link's contact (vault.pages). Made once per language: junk links
    arrive by the thousand."""
    mailto = Markup('<a href="mailto:{0}">{0}</a>').format(sender)
    return pages.environment("", language).get_template("refused.html").render(
        mailto=mailto, example=Markup("<code>INV-1042</code>"),
        other=Markup("<code>unpaid</code>"))


@functools.cache
def unavailable_page(language: str) -> str:
    """A granted document the store cannot give just now (503): the link stays good."""
    return pages.environment("", language).get_template("unavailable.html").render()


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
    a vault folder is below http.min_free_disk, so a load balancer stops sending mail and
    uploads to a node that cannot store them; the body says which. /healthz stays the
    liveness check (the process answers and can read: restart only when it fails). An
    object-store vault has no disk of ours to fill: its answer has no disk keys."""

    def __init__(self, store: DocumentStore, min_free: int, free_disk: Callable[[Path], int],
                 database_url: str) -> None:
        self.storage = store.storage
        self.min_free = min_free
        self.free_disk = free_disk
        self.database_url = database_url

    async def get(self, request: Request) -> JSONResponse:
        checks = {"database": "ok", "vault": "ok"}
        problem = await database_problem(self.database_url)
        if problem is not None:
            log.warning("readiness check: database not writable: %s", problem)
            checks["database"] = f"not writable: {problem}"
        problem = await self.storage.problem()
        if problem is not None:
            log.warning("readiness check: vault %s not writable: %s", self.storage.url, problem)
            checks["vault"] = f"not writable: {problem}"
        disk: dict[str, Any] = {}
        if self.storage.folder is not None:
            disk = await self._disk(self.storage.folder)
        ready = all(value == "ok" for value in checks.values()) and disk.get("disk") != "low"
        body = {"status": "ok" if ready else "error", **checks, **disk}
        return JSONResponse(body, 200 if ready else 503, SECURITY_HEADERS)

    async def _disk(self, folder: Path) -> dict[str, Any]:
        free = await asyncio.to_thread(self.free_disk, self._existing(folder))
        if free >= self.min_free:
            return {"disk": "ok", "disk_free": free}
        log.warning("readiness check: %d MB free under %s, below %d MB", free >> 20,
                    folder, self.min_free >> 20)
        return {"disk": "low", "disk_free": free}

    @staticmethod
    def _existing(path: Path) -> Path:
        """The vault folder, or its nearest existing parent before the first PDF."""
        while not path.exists() and path != path.parent:
            path = path.parent
        return path


class Downloads:
    """GET /d/{token}: one PDF, or a ZIP when the grant names several documents."""

    def __init__(self, store: DocumentStore, signer: LinkSigner, sender: str,
                 clock: Clock, step_up: StepUpRules | None = None,
                 through_page: ThroughPage | None = None) -> None:
        self.store = store
        self.signer = signer
        self.sender = sender  # the address a fresh link is asked from (refused.html)
        self.clock = clock  # the service's: a link expires on the clock that granted it
        self.step_up = step_up or StepUpRules()
        self.through_page = through_page  # None: every link downloads directly
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
        if (page := await self._through_page(request, grant, contact, documents)) is not None:
            return page
        if missing := await self.store.missing(documents):
            log.error("grant %s: document %s is missing from %s", grant.id, missing[0].id,
                      self.store.storage.url)
            return HTMLResponse(unavailable_page(await pages.language_for(contact.id)), 503,
                                PAGE_HEADERS)
        if request.method == "GET":  # a HEAD (link preview, mail scanner) is no download
            await record_downloads(request, grant, contact, documents)
            metrics.downloaded(len(documents))
            await access_watch.volume(contact, access_watch.DOWNLOAD, self.clock.now(),
                                      self.step_up.watch)
        if len(documents) == 1 and not grant.label.lower().endswith(".zip"):
            return await pdf_response(self.store, documents[0], grant.label, request.method)
        if request.method == "HEAD":  # the ZIP is built while sent: don't build it for nothing
            return zip_head_response(grant.label)
        names, index = await archive_index(contact, documents)
        return zip_response(self.store, documents, names, grant.label, index)

    async def _through_page(self, request: Request, grant: Grant, contact: Contact,
                            documents: list[Document]) -> Response | None:
        """The account page instead of the file, for a contact who must step up (their
        account's access.step_up, or an open access watch, vault.access_watch)."""
        now = self.clock.now()
        if request.method == "GET":
            await access_watch.link_networks(grant.id, contact, client_ip(request), now,
                                             self.step_up.watch)
        if self.through_page is None:
            return None
        account = await Account.get(id=contact.account_id)
        if not await stepup.required_for(contact, account, self.step_up, now):
            return None
        return await self.through_page(request, grant, contact, documents)

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
        language = await pages.language_for(why.contact_id, why.account_id,
                                            request.headers.get("accept-language", ""))
        return HTMLResponse(refused_page(self.sender, language), REFUSED_STATUS, PAGE_HEADERS)


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
