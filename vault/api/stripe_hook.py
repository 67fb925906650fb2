"""`POST /webhooks/stripe`: Stripe's signature checked on the raw body with the official
library (each secret of STRIPE_WEBHOOK_SECRET tried, 300 s tolerance), then the event
applied once (vault.stripe_events). 400: not signed by Stripe, or stale (nothing changes);
200: applied, already applied, or a type we do not handle; 500: a failure, so Stripe
retries (every step is an upsert, so a retry after a partial failure is safe)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import stripe
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from vault.stripe_events import StripeLedger

log = logging.getLogger(__name__)

TOLERANCE = 300  # seconds; Stripe's own default


@dataclass
class StripeWebhook:
    ledger: StripeLedger
    secrets: tuple[str, ...]

    def routes(self) -> list[BaseRoute]:
        return [Route("/webhooks/stripe", self.receive, methods=["POST"])]

    def verified(self, body: bytes, header: str) -> bool:
        for secret in self.secrets:
            try:
                stripe.WebhookSignature.verify_header(body, header, secret, TOLERANCE)
            except stripe.SignatureVerificationError:
                continue
            return True
        return False

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        if not self.verified(body, request.headers.get("stripe-signature", "")):
            log.warning("stripe webhook: refused a request without a valid, recent signature")
            return JSONResponse({"error": "invalid signature"}, 400)
        try:
            event = json.loads(body)
            event_id, kind = str(event["id"]), str(event["type"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "not a Stripe event"}, 400)
        try:
            done = await self.ledger.handle(event)
        except Exception:  # answered 500: Stripe retries it later
            log.exception("stripe webhook: event %s (%s) failed", event_id, kind)
            return JSONResponse({"error": "failed; retry"}, 500)
        log.info("stripe webhook: event %s (%s): %s", event_id, kind, done)
        return JSONResponse({"received": True, "result": done})
