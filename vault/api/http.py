"""The /api/v1 routes: authentication, scope, rate limit, Idempotency-Key and the audit
row around every call; the work itself is vault.api.ingest (POST) and vault.api.views (GET).

Order of checks: the key (401, no detail: an unknown and a revoked key look the same),
its scope (403), its rate (429 with Retry-After). Every call is audited with the key's name
(never the key nor its hash), the method, the path and the status.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise.exceptions import IntegrityError

from vault import audit
from vault.api import schemas as s
from vault.api.idempotency import MAX_KEY, Conflict, IdempotencyKeys, Kept, request_hash
from vault.api.ingest import MODELS, Context, FieldProblem, Invalid, OnIssued, ingest, pointer
from vault.api.keys import authenticate
from vault.api.openapi import openapi_document
from vault.api.ratelimit import RateLimiter
from vault.api.views import dump, invoices_out
from vault.clock import Clock
from vault.config import Config
from vault.ingest.credit_notes import credit_note_of
from vault.ingest.invoice_store import ConcurrentChange
from vault.models import ApiKey, Invoice, InvoiceEvent
from vault.vocabulary import ApiScope, Source

log = logging.getLogger("invoicebot.api")
PREFIX = "/api/v1"
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
MAX_CHANGES = 1000


def problem(status: int, word: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": word}, status, {**HEADERS, **headers})


def invalid(problems: list[FieldProblem]) -> JSONResponse:
    errors = [{"pointer": p.pointer, "message": p.message} for p in problems]
    return JSONResponse({"errors": errors}, 422, HEADERS)


def validation_problems(error: ValidationError) -> list[FieldProblem]:
    return [FieldProblem("".join("/" + str(step).replace("~", "~0").replace("/", "~1")
                                 for step in e["loc"]), e["msg"]) for e in error.errors()]


@dataclass
class Api:
    config: Config
    clock: Clock
    on_issued: OnIssued | None = None  # renders the PDFs of invoices stored (after commit)
    on_credited: OnIssued | None = None  # and of credit notes
    limiter: RateLimiter = field(init=False)
    idempotency: IdempotencyKeys = field(default_factory=IdempotencyKeys)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.config.api_rate)

    def routes(self) -> list[BaseRoute]:
        posts = [Route(f"{PREFIX}/{kind}", self._poster(kind), methods=["POST"])
                 for kind in MODELS]
        return [
            Route(f"{PREFIX}/openapi.json", self.openapi, methods=["GET"]),
            *posts,
            Route(PREFIX + "/invoices/external/{source}/{external_id:path}",
                  self.guarded(ApiScope.READ, self.invoice_by_external_id), methods=["GET"]),
            Route(PREFIX + "/invoices/{invoice_number:path}",
                  self.guarded(ApiScope.READ, self.invoice), methods=["GET"]),
            Route(f"{PREFIX}/changes", self.guarded(ApiScope.READ, self.changes),
                  methods=["GET"]),
        ]

    async def not_found(self, request: Request, exc: Exception) -> Response:
        """No route matched (a path the routes' patterns cannot hold, e.g. a newline): JSON
        under /api/v1, as every other answer there; Starlette's plain text elsewhere."""
        if request.url.path.startswith(PREFIX + "/"):
            return problem(404, "not found")
        if isinstance(exc, HTTPException):  # as Starlette's own handler answers
            return PlainTextResponse(exc.detail, exc.status_code, exc.headers)
        return PlainTextResponse("Not Found", 404)

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document(), headers=HEADERS)

    def _poster(self, kind: str) -> Any:
        async def post(request: Request, key: ApiKey) -> Response:
            return await self.post(kind, request, key)

        return self.guarded(ApiScope.INGEST, post)

    def guarded(self, scope: ApiScope, handler: Any) -> Any:
        async def call(request: Request) -> Response:
            key = await authenticate(request.headers.get("authorization", ""))
            if key is None:
                response: Response = problem(401, "unauthorized",
                                             **{"WWW-Authenticate": "Bearer"})
            elif key.scope != scope:
                response = problem(403, "forbidden")
            elif wait := self.limiter.take(key.id):
                response = problem(429, "too many requests", **{"Retry-After": str(wait)})
            else:
                response = await handler(request, key)
            await audit.record("vault.api.call", key=key.name if key else "",
                               method=request.method, path=request.url.path,
                               status=response.status_code)
            return response

        return call

    async def post(self, kind: str, request: Request, key: ApiKey) -> Response:
        body = await request.body()
        idem = request.headers.get("idempotency-key")
        answer: Response | Kept
        if idem is None:
            answer = await self.store(kind, body, key)
        elif not 0 < len(idem) <= MAX_KEY:
            answer = Kept(422, json.dumps({"errors": [{"pointer": "", "message": (
                f"the Idempotency-Key header must be 1-{MAX_KEY} characters")}]}))
        else:
            answer = await self.once(kind, body, key, idem, request)
        if isinstance(answer, Kept):
            return Response(answer.body, answer.status, HEADERS, "application/json")
        return answer

    async def once(self, kind: str, body: bytes, key: ApiKey, idem: str,
                   request: Request) -> Response | Kept:
        digest = request_hash(request.method, request.url.path, body)
        try:
            async with self.idempotency.held(key.id, idem):
                kept = await self.idempotency.kept(key.id, idem, digest, self.clock.now())
                if kept is not None:
                    response = Response(kept.body, kept.status, {**HEADERS,
                                        "Idempotent-Replayed": "true"}, "application/json")
                    return response
                answer = await self.store(kind, body, key)
                await self.idempotency.keep(key.id, idem, digest,
                                            Kept(answer.status_code, bytes(answer.body).decode()),
                                            self.clock.now())
                return answer
        except Conflict:
            return problem(409, "Idempotency-Key was used for another request")

    async def store(self, kind: str, body: bytes, key: ApiKey) -> Response:
        try:
            data = json.loads(body)
        except ValueError as exc:
            return invalid([FieldProblem("", f"the body is not JSON: {exc}")])
        batch = isinstance(data, dict) and "items" in data
        model: type[BaseModel] = s.Batch[MODELS[kind]] if batch else MODELS[kind]  # type: ignore[valid-type]
        try:
            parsed = model.model_validate(data)
        except ValidationError as exc:
            return invalid(validation_problems(exc))
        items = list(getattr(parsed, "items", [parsed])) if batch else [parsed]
        ctx = Context(self.clock.today(self.config.seller.timezone.key), self.clock.now(),
                      self.on_issued, key.name, on_credited=self.on_credited)
        try:
            outcome = await ingest(kind, items, batch, ctx)
        except Invalid as exc:
            return invalid(exc.problems)
        except (ConcurrentChange, IntegrityError):  # another call stored the same meanwhile
            log.info("api %s: a concurrent call stored the same object first", kind)
            return problem(409, "a concurrent call stored the same object; retry")
        status = 201 if outcome.created else 200
        content = {"items": outcome.items} if batch else outcome.items[0]
        return JSONResponse(content, status, HEADERS)

    async def invoice(self, request: Request, key: ApiKey) -> Response:
        number = request.path_params["invoice_number"]
        if not number.isprintable():  # a NUL (%00): no number has one; PostgreSQL refuses it
            return problem(404, "not found")
        found = (await invoices_out([number])).get(number)
        return problem(404, "not found") if found is None else JSONResponse(dump(found),
                                                                             headers=HEADERS)

    async def invoice_by_external_id(self, request: Request, key: ApiKey) -> Response:
        try:
            source = Source(request.path_params["source"])
        except ValueError:
            return problem(404, "not found")
        if not request.path_params["external_id"].isprintable():  # as in invoice()
            return problem(404, "not found")
        number = await Invoice.filter(
            source=source, external_id=request.path_params["external_id"]
        ).values_list("number", flat=True)
        if not number:
            return problem(404, "not found")
        found = (await invoices_out([str(number[0])]))[str(number[0])]
        return JSONResponse(dump(found), headers=HEADERS)

    async def changes(self, request: Request, key: ApiKey) -> Response:
        since, limit = request.query_params.get("since", "0"), request.query_params.get(
            "limit", "100")
        if not since.isascii() or not since.isdigit() or len(since) > 18:
            return invalid([FieldProblem(pointer(False, None, "since"),
                                         f"since {since!r} is not a cursor (a number)")])
        if not limit.isascii() or not limit.isdigit() or not 1 <= int(limit) <= MAX_CHANGES:
            return invalid([FieldProblem(pointer(False, None, "limit"),
                                         f"limit {limit!r} is not a number 1-{MAX_CHANGES}")])
        rows = await InvoiceEvent.filter(id__gt=int(since)).order_by("id").limit(
            int(limit)).select_related("invoice", "account")
        changes = [s.Change(
            cursor=str(e.id), at=e.at.isoformat(), kind=str(e.kind),
            invoice_number=e.invoice.number, credit_note_number=credit_note_of(e.key),
            account_id=e.account.account_id,
            source=str(e.invoice.source), external_id=e.invoice.external_id,
            old_status=None if e.old_status is None else str(e.old_status),
            new_status=None if e.new_status is None else str(e.new_status),
            amount=None if e.amount is None else str(e.amount),
        ) for e in rows]
        page = s.Changes(changes=changes, next=changes[-1].cursor if changes else since)
        return JSONResponse(page.model_dump(mode="json"), headers=HEADERS)
