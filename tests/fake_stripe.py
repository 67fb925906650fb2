"""A fake Stripe API: a real HTTP server on loopback that answers like Stripe's v1 API for
the objects it holds, for the real `stripe` library (its api_base pointed here), and
signs webhook payloads the way Stripe does.

    async with FakeStripe() as fake:
        fake.customers["cus_1"] = customer(...); fake.invoices["in_1"] = invoice(...)
        config: INVOICEBOT_STRIPE_API_BASE = fake.api_base
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "sk_test_fake"
WEBHOOK_SECRET = "whsec_test_current"
OLD_WEBHOOK_SECRET = "whsec_test_previous"


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """A Stripe-Signature header: t=TIMESTAMP,v1=HMAC-SHA256(secret, "TIMESTAMP.payload")."""
    timestamp = int(time.time()) if at is None else at
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(event_id: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": kind, "api_version": "2024-06-20",
            "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
            "data": {"object": obj}}


def customer(customer_id: str, email: str, name: str, **metadata: str) -> dict[str, Any]:
    return {"id": customer_id, "object": "customer", "email": email, "name": name,
            "metadata": metadata, "created": int(time.time())}


def invoice(invoice_id: str, customer_id: str, number: str, *, created: int,
            due_days: int = 30, status: str = "open", paid: bool = False) -> dict[str, Any]:
    """An invoice of two lines: 2 × 100.00 taxed 10 % and 30.00 untaxed (total 250.00)."""
    lines = [
        {"id": "il_1", "object": "line_item", "amount": 20000, "currency": "usd",
         "description": "Freight", "quantity": 2,
         "tax_amounts": [{"amount": 2000, "inclusive": False, "tax_rate": "txr_10"}]},
        {"id": "il_2", "object": "line_item", "amount": 3000, "currency": "usd",
         "description": "Handling", "quantity": 1, "tax_amounts": []},
    ]
    return {
        "id": invoice_id, "object": "invoice", "customer": customer_id, "number": number,
        "status": "paid" if paid else status, "currency": "usd", "created": created,
        "due_date": created + due_days * 86400, "total": 25000,
        "amount_due": 25000, "amount_paid": 25000 if paid else 0,
        "amount_remaining": 0 if paid else 25000, "attempt_count": 1,
        "payment_intent": f"pi_{invoice_id}" if paid else None, "charge": None,
        "status_transitions": {"finalized_at": created,
                               "paid_at": created + 3600 if paid else None},
        "lines": {"object": "list", "data": lines, "has_more": False,
                  "url": f"/v1/invoices/{invoice_id}/lines"},
    }


def credit_note(note_id: str, customer_id: str, number: str, invoice_id: str, *,
                created: int) -> dict[str, Any]:
    """A credit note of one line: 20.00 back on the freight, taxed 10 % (total 22.00)."""
    line = {"id": "cnli_1", "object": "credit_note_line_item", "amount": 2000,
            "description": "Freight refund", "quantity": 1, "unit_amount": 2000,
            "type": "custom_line_item",
            "tax_amounts": [{"amount": 200, "inclusive": False, "tax_rate": "txr_10"}]}
    return {
        "id": note_id, "object": "credit_note", "customer": customer_id, "number": number,
        "invoice": invoice_id, "currency": "usd", "created": created, "effective_at": created,
        "subtotal": 2000, "total": 2200, "amount": 2200, "status": "issued",
        "reason": "product_unsatisfactory", "memo": None, "type": "pre_payment",
        "lines": {"object": "list", "data": [line], "has_more": False,
                  "url": f"/v1/credit_notes/{note_id}/lines"},
    }


@dataclass
class FakeStripe:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    credit_notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # "GET /v1/invoices/in_1"
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakeStripe:
        app = web.Application()
        app.router.add_get("/v1/{kind}/{id}", self._retrieve)
        app.router.add_get("/v1/{kind}", self._list)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def _store(self, kind: str) -> dict[str, dict[str, Any]] | None:
        return {"customers": self.customers, "invoices": self.invoices,
                "credit_notes": self.credit_notes}.get(kind)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {API_KEY}"

    async def _retrieve(self, request: web.Request) -> web.Response:
        self.requests.append(f"GET {request.path}")
        if not self._authorized(request):
            return _error(401, "Invalid API Key provided")
        store = self._store(request.match_info["kind"])
        found = None if store is None else store.get(request.match_info["id"])
        if found is None:
            return _error(404, f"No such object: '{request.match_info['id']}'")
        return web.json_response(found)

    async def _list(self, request: web.Request) -> web.Response:
        """Newest first, `limit` and `starting_after` as Stripe pages; `created[gte]`."""
        self.requests.append(f"GET {request.path_qs}")
        if not self._authorized(request):
            return _error(401, "Invalid API Key provided")
        store = self._store(request.match_info["kind"])
        if store is None:
            return _error(404, "Unrecognized request URL")
        items = sorted(store.values(), key=lambda o: (o["created"], o["id"]), reverse=True)
        if since := request.query.get("created[gte]"):
            items = [o for o in items if o["created"] >= int(since)]
        if after := request.query.get("starting_after"):
            ids = [o["id"] for o in items]
            items = items[ids.index(after) + 1:]
        limit = int(request.query.get("limit", "10"))
        return web.json_response({"object": "list", "url": request.path,
                                  "data": items[:limit], "has_more": len(items) > limit})


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"type": "invalid_request_error", "message": message}},
                             status=status)


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
