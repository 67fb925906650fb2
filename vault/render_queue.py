"""Invoices without their PDF, and the queue that renders them: history does not wait.

The one home of "an invoice whose document is missing". An invoice gets its PDF at issue
(vault.documents.issue_invoice_pdf, after the commit), except history: an invoice issued
before the alert window (`notifier.alert_window`, the same day rule as
notifier.alerts.is_news) is stored at once and left without a document, so a backfill of
100,000 invoices is answerable as soon as its rows are committed instead of after hours of
rendering. The queue is a query, not a table: invoices with no document, newest first
(recent history is what people ask for). `serve` runs it in the background
(bot.service); each worker claims a batch under a lease (FOR UPDATE SKIP LOCKED on
PostgreSQL, so several instances share the queue and none renders another's batch; on
SQLite one instance holds the write lock for the claim), renders it, and stores each PDF,
which ends the claim. A render that fails keeps its lease until it passes, so it is tried
again later and never in a loop. The same query mends invoices whose render failed or
whose import was killed between its commit and its renders.

A request that needs a pending invoice's PDF (a reply's link, a download) renders it first,
within the request (`ensure_pdfs`), and stores it, so it is rendered once: the claim it
takes keeps the queue off it. Should the queue have claimed it a moment before, both render
it; the bytes are the same and the store keeps one file.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta

from tortoise import connections
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from vault.clock import Clock
from vault.config import SellerConfig
from vault.documents import DocumentStore, issue_invoice_pdf
from vault.models import Invoice
from vault.pdf import Renderer

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # a claimed batch is someone's for this long
BATCH = 8  # renders claimed at a time by one worker


def is_history(invoice: Invoice, news_from: date) -> bool:
    return invoice.issue_date < news_from


def _claimable(now: datetime) -> Q:
    return Q(document_id=None) & (Q(render_claimed_until=None) | Q(render_claimed_until__lt=now))


async def any_pending() -> bool:
    """One indexed query: whether the queue has anything to do."""
    return bool(await Invoice.filter(document_id=None).exists())


async def claim(now: datetime, batch: int = BATCH, lease: timedelta = LEASE) -> list[Invoice]:
    """Take up to `batch` pending invoices, newest first, for `lease`."""
    async with in_transaction():
        await _lock_for_writing()
        invoices = await Invoice.filter(_claimable(now)).order_by(
            "-issue_date", "-id").limit(batch).select_for_update(skip_locked=True)
        if invoices:
            await Invoice.filter(id__in=[i.id for i in invoices]).update(
                render_claimed_until=now + lease)
    return list(invoices)


async def _lock_for_writing() -> None:
    """On SQLite take the write lock before reading, as notifier.outbox does (Tortoise says
    only BEGIN): the UPDATE matches no row. PostgreSQL's row locks do this job."""
    if connections.get("default").capabilities.dialect == "sqlite":
        await Invoice.filter(id=-1).update(render_claimed_until=None)


async def render_pending(
    renderer: Renderer, store: DocumentStore, seller: SellerConfig, *, clock: Clock,
    batch: int = BATCH,
) -> int:
    """Render every pending invoice this worker can claim, newest first; how many were
    rendered. An invoice that fails is logged and left to its lease."""
    rendered = 0
    while invoices := await claim(clock.now(), batch):
        results = await asyncio.gather(
            *(issue_invoice_pdf(i, renderer, store, seller, clock=clock) for i in invoices),
            return_exceptions=True)
        for invoice, result in zip(invoices, results, strict=True):
            if isinstance(result, BaseException):
                log.error("invoice %s: PDF still missing, render failed: %s: %.200s",
                          invoice.number, type(result).__name__, result)
            else:
                rendered += 1
    if rendered:
        log.info("render queue: %d invoice PDFs rendered", rendered)
    return rendered


async def ensure_pdfs(
    invoices: list[Invoice], renderer: Renderer, store: DocumentStore, seller: SellerConfig,
    *, clock: Clock,
) -> None:
    """Give each of these invoices its PDF now if it has none yet (a request needs it):
    claimed first so the queue leaves it alone, rendered together, stored. One that fails
    is logged and stays without (the answer then has no link for it), for the queue."""
    pending = [i for i in invoices if i.document_id is None]
    if not pending:
        return
    now = clock.now()
    await Invoice.filter(id__in=[i.id for i in pending]).update(render_claimed_until=now + LEASE)
    results = await asyncio.gather(
        *(issue_invoice_pdf(i, renderer, store, seller, clock=clock) for i in pending),
        return_exceptions=True)
    for invoice, result in zip(pending, results, strict=True):
        if isinstance(result, Exception):
            log.error("invoice %s: PDF asked for, render failed: %s: %.200s",
                      invoice.number, type(result).__name__, result)
        elif isinstance(result, BaseException):
            raise result  # cancelled: the request is going away
