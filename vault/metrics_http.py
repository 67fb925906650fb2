"""GET /metrics: the Prometheus exposition of vault.metrics plus what the database knows.

Who may read it (`[metrics] listen`, METRICS_TOKEN in the environment):
- listen = "HOST:PORT": its own listener serving only /metrics (bind it to an address only
  the scraper reaches); a METRICS_TOKEN, when set, is required there too.
- listen = "" (the default): on the main HTTP port. With METRICS_TOKEN set, only
  `Authorization: Bearer <token>` gets it (401 otherwise). Without a token, only a
  loopback peer that no proxy forwarded (no Forwarded / X-Forwarded-For / X-Real-IP
  header) gets it (403 otherwise): a reverse proxy on the same host would otherwise hand
  the figures to anyone.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from vault.clock import Clock
from vault.models import ChatInbound, InboundMessage, OutboxMessage
from vault.vocabulary import Channel, InboundState, OutboxState

TOKEN_VARIABLE = "METRICS_TOKEN"
_WAITING = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED)
_FORWARDED = ("forwarded", "x-forwarded-for", "x-real-ip")


@dataclass(eq=False)  # the registry keys collectors by identity
class Snapshot(Collector):
    """Database figures read once per scrape, exposed as gauges."""

    outbox_depth: dict[str, int] = field(default_factory=dict)
    outbox_oldest: dict[str, float] = field(default_factory=dict)
    inbound_depth: dict[str, int] = field(default_factory=dict)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield _gauge("invoicebot_outbox_depth", "Outgoing messages not yet delivered "
                     "(pending, sending or awaiting retry), by channel", self.outbox_depth)
        yield _gauge("invoicebot_outbox_oldest_pending_seconds", "Age of the oldest "
                     "undelivered outgoing message, by channel", self.outbox_oldest)
        yield _gauge("invoicebot_inbound_queue_depth", "Received messages not yet "
                     "processed, by channel", self.inbound_depth)


def _gauge(name: str, text: str, values: dict[str, int] | dict[str, float]
           ) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, text, labels=["channel"])
    for channel, value in sorted(values.items()):
        family.add_metric([channel], float(value))
    return family


async def snapshot(now: datetime) -> Snapshot:
    found = Snapshot()
    for channel in (Channel.EMAIL, Channel.SLACK, Channel.TELEGRAM):
        waiting = OutboxMessage.filter(channel=channel, state__in=_WAITING)
        found.outbox_depth[channel.value] = await waiting.count()
        first = await waiting.order_by("created_at").limit(1).values_list("created_at",
                                                                           flat=True)
        oldest = first[0] if first else None
        found.outbox_oldest[channel.value] = (
            max((now - oldest).total_seconds(), 0.0) if isinstance(oldest, datetime) else 0.0)
    found.inbound_depth[Channel.EMAIL.value] = await InboundMessage.filter(
        state=InboundState.RECEIVED).count()
    for channel in (Channel.SLACK, Channel.TELEGRAM):
        found.inbound_depth[channel.value] = await ChatInbound.filter(
            platform=channel, state=InboundState.RECEIVED).count()
    return found


def process_registry() -> CollectorRegistry:
    """This process's counters, or every worker's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


async def exposition(now: datetime) -> bytes:
    figures = CollectorRegistry(auto_describe=False)
    figures.register(await snapshot(now))
    return generate_latest(process_registry()) + generate_latest(figures)


class MetricsEndpoint:
    def __init__(self, clock: Clock, token: str | None = None, *, own_listener: bool = False
                 ) -> None:
        self.clock = clock
        self.token = os.environ.get(TOKEN_VARIABLE, "") if token is None else token
        self.own_listener = own_listener

    def routes(self) -> list[BaseRoute]:
        return [Route("/metrics", self.get, methods=["GET"])]

    def app(self) -> Starlette:
        """The separate listener's app: /metrics and nothing else."""
        return Starlette(routes=self.routes())

    async def get(self, request: Request) -> Response:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        body = await exposition(self.clock.now())
        return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST,
                                       "Cache-Control": "no-store"})

    def refusal(self, request: Request) -> Response | None:
        if self.token:
            given = request.headers.get("authorization", "")
            if hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                return None
            return PlainTextResponse("metrics: bearer token required\n", 401,
                                     headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        if self.own_listener or (_is_loopback(request) and not any(
                h in request.headers for h in _FORWARDED)):
            return None
        return PlainTextResponse(f"metrics: only from loopback unless {TOKEN_VARIABLE} is "
                                 "set or metrics.listen is given\n", 403)


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
