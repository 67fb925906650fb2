"""The running service: SMTP receiver, HTTP server, workers, scheduler and the feed folder
(when `[ingest] watch` is set) in ONE event loop.

Several instances may share one PostgreSQL database (bot.instances, vault.leases: inbound
rows and outgoing messages claimed, ticks taken in turns, socket mode and polling under a
lease); on SQLite start-up refuses a second instance.

Start-up order matters: the database first (migrated), then the listeners open, then
messages left from a previous run are queued and answered in the background (bot.inbound),
so a backlog never keeps senders from connecting. Stopping closes listeners first so
nothing is accepted that cannot be processed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from starlette.routing import BaseRoute

from bot.account.wiring import account_links, account_page
from bot.channels.email import InboundHandler, start_smtp_server
from bot.channels.smtpguard import PeerLimits
from bot.chatinbox import prune_chat_state
from bot.chatservice import ChatChannels
from bot.commands_cli import PdfIssuer
from bot.errors import StartupError
from bot.inbound import RETRY_EVERY, InboundQueue, requeue
from bot.inbox import Inbox
from bot.instances import Sharing
from bot.pipeline import Pipeline
from notifier import outbox
from notifier.account_link import AccountLinked
from notifier.alerts import AlertContext
from notifier.delivery import RelayAccess, Sender, close_sender, dispatch_due, sender_for
from notifier.email_send import Brand
from notifier.scheduler import Ticks, add_jobs
from notifier.unsubscribe import Unsubscribe, unsubscribe_signer
from vault import credit_notes, db, render_queue, retention
from vault.accept_errors import AcceptErrors
from vault.api.http import Api
from vault.api.idempotency import forget_expired
from vault.api.ingest import OnIssued
from vault.api.stripe_hook import StripeWebhook
from vault.clock import SYSTEM, Clock
from vault.config import Config
from vault.credit_notes import credit_note_issuer
from vault.documents import DocumentStore
from vault.http_limits import header_deadline_protocol
from vault.ingest.csv import ImportResult, import_csv
from vault.ingest.feed import FeedFolder
from vault.leases import Leases, forget_dead, instance_name
from vault.links import LinkSigner
from vault.metrics_http import MetricsEndpoint
from vault.pdf import Renderer
from vault.statements import DocumentRenderer, LazyPdfRenderer
from vault.stripe_events import StripeApi, StripeLedger
from vault.web import create_app
from vault.writable import database_problem

log = logging.getLogger(__name__)


def _reason(exc: OSError) -> str:
    """"Address already in use", not asyncio's longer wording around it."""
    return os.strerror(exc.errno) if exc.errno else str(exc)


@dataclass
class Service:
    config: Config
    dnsfunc: Callable[..., bytes] | None = None  # DKIM key lookup, injectable for tests
    # The one clock: answers, inboxes, chat, the notifier and PDFs read the time here
    # (a FixedClock in tests).
    clock: Clock = SYSTEM
    sender: Sender | None = None
    renderer: DocumentRenderer | None = None  # statements; None: the pipeline starts its own
    # Invoice PDFs of the API and the feed folder; None: one worker started on the first.
    pdf_renderer: Renderer | None = None
    senders: list[Sender] = field(default_factory=list)
    inbound_retry: timedelta = RETRY_EVERY  # how often failed inbound tries are retried
    feed_poll: timedelta = timedelta(seconds=1)  # how often the feed folder is looked at
    feed_settle: timedelta = timedelta(seconds=5)  # how long a dropped file must stay put
    # The render queue (vault.render_queue) is woken by imports that leave history
    # unrendered, and looks on its own this often (failed renders, other processes).
    pdf_sweep_every: timedelta = timedelta(minutes=1)
    smtp_port: int = 0
    http_port: int = 0
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _inbound: list[InboundQueue[Any]] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False
    _own_pdfs: LazyPdfRenderer | None = None
    _pdf_sweep: asyncio.Lock = field(default_factory=asyncio.Lock)
    _render_wake: asyncio.Event = field(default_factory=asyncio.Event)
    _accept_errors: AcceptErrors = field(default_factory=AcceptErrors)

    async def start(self) -> None:
        """Start every part, or raise StartupError naming what failed (the caller stops what
        did start)."""
        # Out of file descriptors: one log line, not a traceback per accept (both servers).
        self._accept_errors.install(asyncio.get_running_loop())
        self.leases = Leases(instance_name(), self.config.lease_ttl, self.clock)
        self.sharing = Sharing(self.leases)
        await self._open_storage()
        self.signer = signer = LinkSigner(self.config.secret_keys)
        self.sender = self.sender or sender_for(self.config.email.outbound,
                                                brand=Brand.of(self.config.seller),
                                                relay=RelayAccess.of(self.config.email))
        self.pipeline = Pipeline(self.config, signer, self.clock, renderer=self.renderer,
                                 store=self.store)
        self.chats = ChatChannels(self.config, self.pipeline, self._wake.set, self.clock,
                                  self.leases)
        links = account_links(self.config, self.clock)  # "Open your account" in each message
        self.senders = [AccountLinked(s, links) for s in [self.sender, *self.chats.senders()]]
        self.inbox = Inbox(self.config.email, self.pipeline, self._wake.set, self.dnsfunc,
                           offers=self.chats.offers if self.chats.enabled else None,
                           retry_every=self.inbound_retry)
        self.ticks = Ticks(AlertContext(self.config, signer), self.clock, self._wake.set)
        await self.sharing.claimed("overdue-sweep", self.ticks.sweep)()
        self._inbound = [self.inbox.queue, *self.chats.queues()]
        await self.sharing.join(self._inbound)
        self._tasks.append(asyncio.create_task(self._delivery_worker(), name="delivery"))
        await self._start_smtp()
        await self._start_http(signer)
        # After the listeners: the backlog is answered in the background (bot.inbound).
        await self.inbox.queue.start()
        # The parser worker's imports take a second: paid now, not by the first mail.
        self._tasks.append(asyncio.create_task(self.inbox.reader.warm_up(), name="mail-reader"))
        await self.chats.start()
        self._start_scheduler()
        # In the background: thousands of history PDFs (or those a killed import left)
        # must not hold up the listeners.
        self._tasks.append(asyncio.create_task(self._render_worker(), name="render-queue"))
        if self.config.ingest_watch is not None:
            await self._start_feed(self.config.ingest_watch)
        # Start-up objects (imports, ORM metadata) never die: freezing them keeps full GC
        # passes from pausing requests for tens of milliseconds.
        gc.collect()
        gc.freeze()

    async def _open_storage(self) -> None:
        """The database (migrated) and the vault, each checked writable: a node that cannot
        store what it accepts must not accept it (every mail would get 451)."""
        url = self.config.database_url
        where = f"database.url {db.display(url)}"
        await self.sharing.open(url, where)
        await db.migrate(url)
        await db.connect(url)
        if (problem := await db.unknown_migrations()) is not None:
            raise StartupError(f"{where}: {problem}")
        if (problem := await database_problem(url)) is not None:
            raise StartupError(f"{where}: not writable: {problem}")
        # One store for every part: an S3 vault's connection pool is shared, and closed at stop.
        self.store = DocumentStore.open(self.config.vault)
        if (problem := await self.store.storage.problem()) is not None:
            vault = self.config.vault
            raise StartupError(f"{vault.setting} {vault.shown}: not writable: {problem}")

    async def _start_smtp(self) -> None:
        handler = InboundHandler(self.config.email, self.inbox.queue.put, self.clock)
        self.smtp_guard = PeerLimits(self.config.email)  # connection counts, message rates
        try:
            self.smtp = await start_smtp_server(self.config.email, handler, self.smtp_guard)
        except OSError as exc:  # a port in use, an address this host does not have
            host, port = self.config.email.listen
            raise StartupError(f"email.listen {host}:{port}: {_reason(exc)}") from None
        self.smtp_port = self.smtp.sockets[0].getsockname()[1]

    async def _start_http(self, signer: LinkSigner) -> None:
        unsubscribe = Unsubscribe(unsubscribe_signer(self.config.secret_keys),
                                  self.config.alerts.default_quiet_hours, self.config.email.sender,
                                  self.clock)
        if self.pdf_renderer is None:
            self.pdf_renderer = self._own_pdfs = LazyPdfRenderer()
        issuer = PdfIssuer(self.config, self.pdf_renderer, self.clock, self.store,
                           self._render_wake.set)
        credits = credit_note_issuer(self.pdf_renderer, self.store, self.config.seller,
                                     self.clock)
        api = Api(self.config, self.clock, issuer, on_credited=credits)
        # Both renderers the service runs with (PdfRenderer, LazyPdfRenderer) render HTML too.
        statement_renderer = cast(DocumentRenderer, self.pdf_renderer)
        page = account_page(self.config, self.clock, statement_renderer, self._wake.set,
                            self.store)
        app = create_app(self.config, self.store, signer, self.clock,
                         extra_routes=[*self.chats.routes(), *unsubscribe.routes(),
                                       *api.routes(), *self._stripe_routes(issuer, credits),
                                       *await self._metrics_routes(), *page.routes],
                         not_found=api.not_found, through_page=page.through_page)
        self.refused_links = app.state.refused_links
        host, port = self.config.http_listen
        limits = self.config.http_limits  # [http]: vault.http_limits says why each
        # Our own redacting access log replaces uvicorn's, which would log link tokens.
        # X-Forwarded-For is believed only from http.trusted_proxies (uvicorn takes CIDRs).
        proxies = [str(network) for network in self.config.trusted_proxies]
        server_config = uvicorn.Config(
            app, host=host, port=port, lifespan="off", access_log=False, log_config=None,
            http=header_deadline_protocol(limits.header_timeout),
            limit_concurrency=limits.max_connections,
            timeout_keep_alive=limits.keep_alive_timeout,  # type: ignore[arg-type]
            h11_max_incomplete_event_size=limits.max_header_size,
            proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None)
        self.http = uvicorn.Server(server_config)
        # Bound here, not by uvicorn: its bind failure logs and calls sys.exit inside a task.
        listening = self._http_socket(host, port)
        self._tasks.append(asyncio.create_task(self.http.serve(sockets=[listening]),
                                               name="http"))
        while not self.http.started:
            if self._tasks[-1].done():
                self._tasks[-1].result()  # raises why it could not start
            await asyncio.sleep(0.01)
        self.http_port = listening.getsockname()[1]

    @staticmethod
    def _http_socket(host: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listening = socket.socket(family, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listening.bind((host, port))
        except OSError as exc:
            listening.close()
            raise StartupError(f"http.listen {host}:{port}: {_reason(exc)}") from None
        listening.set_inheritable(True)
        return listening

    async def _metrics_routes(self) -> list[BaseRoute]:
        """/metrics on the main port, or on its own listener ([metrics] listen)."""
        listen = self.config.metrics_listen
        if listen is None:
            return MetricsEndpoint(self.clock).routes()
        app = MetricsEndpoint(self.clock, own_listener=True).app()
        self.metrics_http = uvicorn.Server(uvicorn.Config(
            app, host=listen[0], port=listen[1], lifespan="off", access_log=False,
            log_config=None))
        self._tasks.append(asyncio.create_task(self.metrics_http.serve(), name="metrics"))
        while not self.metrics_http.started:
            if self._tasks[-1].done():
                self._tasks[-1].result()  # raises why it could not start (port in use...)
            await asyncio.sleep(0.01)
        self.metrics_port = self.metrics_http.servers[0].sockets[0].getsockname()[1]
        return []

    def _stripe_routes(self, issuer: OnIssued, credits: OnIssued) -> list[BaseRoute]:
        stripe = self.config.stripe
        if stripe is None:
            return []
        ledger = StripeLedger(stripe, self.clock, self.config.seller.timezone,
                              StripeApi(stripe), issuer, credits)
        return StripeWebhook(ledger, stripe.webhook_secrets).routes()

    async def _start_feed(self, root: Path) -> None:
        """The feed folder (vault.ingest.feed), imported as `invoicebot import` does: the
        same importer, events and PDFs rendered once at issue."""
        assert self.pdf_renderer is not None  # set when HTTP started
        issue = PdfIssuer(self.config, self.pdf_renderer, self.clock, self.store,
                          self._render_wake.set)

        async def importer(kind: str, path: Path) -> ImportResult:
            return await import_csv(kind, path, clock=self.clock, on_issued=issue,
                                    on_credited=issue.credit_notes,
                                    timezone=self.config.seller.timezone.key, progress=False)

        self.feed = FeedFolder(root, importer, settle=self.feed_settle.total_seconds())
        self.feed.prepare()
        self._tasks.append(asyncio.create_task(self._feed_worker(), name="feed"))

    async def _feed_worker(self) -> None:
        # In turns: instances watching one shared folder must not import a file twice.
        look = self.sharing.claimed("feed", self.feed.look)
        while not self._stopping:
            try:
                await look()
            except Exception:
                log.exception("feed folder: a look failed; its files stay for the next one")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.feed_poll.total_seconds()):
                    await self._stopped.wait()

    def _start_scheduler(self) -> None:
        """The scheduler only triggers; the database holds the truth. Shared work is
        claimed (`claimed`: one instance per tick at a time); the delivery wake, the
        inbound retry and the refusal counts are this instance's own."""
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        tick = self.config.notifier_tick.total_seconds()
        claimed = self.sharing.claimed
        self.scheduler.add_job(self._wake.set, "interval", seconds=tick, id="dispatch")
        self.scheduler.add_job(claimed("chat-prune", partial(prune_chat_state, self.clock)),
                               "interval", hours=1, id="chat-prune")
        self.scheduler.add_job(claimed("api-idempotency-prune", self.forget_idempotent_answers),
                               "interval", hours=1, id="api-idempotency-prune")
        # Shared: as often as a dead instance's claims lapse, so its rows wait no longer.
        retry = min(self.inbound_retry, self.config.lease_ttl) if self.sharing.shared \
            else self.inbound_retry
        self.scheduler.add_job(self.sweep_inbound, "interval", id="inbound-retry",
                               seconds=retry.total_seconds())
        # The counts of sampled link refusals, written each minute even when traffic stops.
        self.scheduler.add_job(self.refused_links.flush, "interval", minutes=1,
                               id="refusal-counts", max_instances=1, coalesce=True)
        self.scheduler.add_job(claimed("retention", self.prune_stored), "interval", hours=1,
                               id="retention", max_instances=1, coalesce=True)
        # The overdue sweep, and alerts, due-soon reminders and digests (notifier.scheduler).
        add_jobs(self.scheduler, self.ticks, tick, alerting=self.config.notifier_enabled,
                 claimed=claimed)
        self.scheduler.start()

    async def forget_idempotent_answers(self) -> int:
        """Drop the API's Idempotency-Key answers older than 24 hours."""
        return await forget_expired(self.clock.now())

    async def prune_stored(self) -> None:
        """Delete what [retention] no longer keeps (vault.retention, notifier.outbox)."""
        kept, now = self.config.retention, self.clock.now()
        pruned = await retention.prune(kept, now)
        sent = await outbox.prune(now - kept.outbox)
        await forget_dead(now)  # instance leases left by restarts
        if pruned != retention.Pruned() or sent:  # quiet hours stay quiet in the log
            log.info("retention: %s; %d outgoing messages deleted", pruned, sent)

    async def _render_worker(self) -> None:
        """The render queue: at start, when woken, and every pdf_sweep_every."""
        while not self._stopping:
            self._render_wake.clear()
            try:
                await self.sweep_missing_pdfs()
            except Exception:
                log.exception("render queue: a round failed; the next one tries again")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.pdf_sweep_every.total_seconds()):
                    await self._render_wake.wait()

    async def sweep_missing_pdfs(self) -> int:
        """Render every invoice and credit note without its PDF that this process can claim
        (vault.render_queue, newest first; vault.credit_notes.render_missing). A renderer
        is started only when one is missing: most rounds cost one query."""
        async with self._pdf_sweep:
            if not (await render_queue.any_pending() or await credit_notes.any_without_pdf()):
                return 0
            own = LazyPdfRenderer() if self.pdf_renderer is None else None
            renderer = self.pdf_renderer or own
            assert renderer is not None
            store, seller = self.store, self.config.seller
            try:
                return (await render_queue.render_pending(renderer, store, seller,
                                                          clock=self.clock)
                        + await credit_notes.render_missing(renderer, store, seller,
                                                           clock=self.clock))
            finally:
                if own is not None:
                    await own.close()

    async def retry_inbound(self) -> int:
        """Queue again, on every channel, the stored messages whose last try failed."""
        return await requeue(self._inbound)

    async def sweep_inbound(self) -> int:
        """The scheduled retry: only the messages whose backoff has passed."""
        return await requeue(self._inbound, due_only=True)

    async def _delivery_worker(self) -> None:
        tick = self.config.notifier_tick.total_seconds()
        reclaimed = -math.inf  # monotonic time of the last look for dead workers' rows
        while not self._stopping:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(tick):
                    await self._wake.wait()
            self._wake.clear()
            # A reply queued here wakes this worker: that round need not look for rows a
            # dead worker left (a query per round), once a tick is soon enough.
            reclaim = time.monotonic() - reclaimed >= tick
            if reclaim:
                reclaimed = time.monotonic()
            try:
                for sender in self.senders:  # email, then each enabled chat channel
                    await dispatch_due(sender, now=self.clock.now(), signer=self.signer,
                                       claimant=self.sharing.claimant, reclaim=reclaim)
            except Exception:
                log.exception("delivery round failed; rows stay queued for the next tick")

    async def stop(self) -> None:
        """Stop taking work, let the work in flight finish, then close what is open: the
        last part even when a part of the first fails (raised again after)."""
        try:
            await self._stop_work()
        finally:
            await self._close_resources()

    async def _stop_work(self) -> None:
        self._stopping = True
        self._stopped.set()  # the feed worker finishes its look and returns
        self._wake.set()  # the delivery worker finishes its round and returns
        if hasattr(self, "smtp"):
            self.smtp.close()  # no new connections; the open ones are told 421
            await self.smtp_guard.shut_down(self.config.email.limits.command_timeout
                                            .total_seconds())
            await self.smtp.wait_closed()
        if hasattr(self, "http"):
            self.http.should_exit = True
        if hasattr(self, "metrics_http"):
            self.metrics_http.should_exit = True
        if hasattr(self, "scheduler") and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if hasattr(self, "inbox"):
            await self.inbox.queue.stop()
            await asyncio.to_thread(self.inbox.reader.close)
        for task in self._tasks:
            if task.get_name() == "render-queue":  # the rest is rendered by the next start
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.sender is not None:  # after the delivery worker's last round
            await close_sender(self.sender)
        if hasattr(self, "chats"):
            await self.chats.stop()
        if hasattr(self, "sharing"):
            await self.sharing.leave()  # what it held is taken over now, not at the expiry
        if hasattr(self, "pipeline"):
            await self.pipeline.close()
        if self._own_pdfs is not None:
            await self._own_pdfs.close()
        if hasattr(self, "refused_links"):
            with contextlib.suppress(Exception):  # counts only; the rows are written
                await self.refused_links.flush()

    async def _close_resources(self) -> None:
        """Last, whatever failed before: the store, the database and the instance lease's
        connection, each closed even if the one before failed to. An open SQLite
        connection keeps a thread that Python waits for at exit: a serve that never exits."""
        closers = [self.store.close] if hasattr(self, "store") else []
        closers.append(db.close)
        if hasattr(self, "sharing"):
            closers.append(self.sharing.close)
        for close in closers:
            try:
                await close()
            except Exception:
                log.exception("stop: %s failed; closing the rest", close.__qualname__)
        self._accept_errors.uninstall()
