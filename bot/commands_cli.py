"""What each `invoicebot` sub-command does; bot.cli parses the arguments."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path

from bot.errors import UsageError
from bot.messages import Request
from bot.pipeline import Pipeline
from vault import db, events, render_queue
from vault.clock import SYSTEM, Clock, FixedClock
from vault.config import Config, ConfigError
from vault.credit_notes import credit_note_issuer
from vault.csvsafe import SafeCsvWriter
from vault.documents import DocumentStore, issue_invoice_pdf
from vault.ingest.csv import import_csv
from vault.ingest.progress import ImportProgress
from vault.links import LinkSigner
from vault.models import Account, AuditEvent, Contact, Invoice
from vault.pdf import PdfRenderer, Renderer
from vault.permissions import warn_if_wide

EXIT_OK = 0
log = logging.getLogger("invoicebot")


def demo_key_file(config: Config) -> Path:
    """Beside the vault folder (var/secret_key by default); with an S3 vault, var/."""
    folder = config.vault.folder
    return (folder.parent if folder is not None else Path("var")) / "secret_key"


def with_secret_keys(config: Config, generate: bool) -> Config:
    """Keys from INVOICEBOT_SECRET_KEYS; else the demo's generated key under var/."""
    if config.secret_keys:
        return config
    key_file = demo_key_file(config)
    if generate and not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    if key_file.exists():
        return dataclasses.replace(config, secret_keys=(key_file.read_text().strip(),))
    raise ConfigError("INVOICEBOT_SECRET_KEYS is not set (comma-separated keys, oldest first, "
                      "at least 32 characters each); `serve --demo` generates one for trying out")


@contextlib.asynccontextmanager
async def database(config: Config) -> AsyncIterator[None]:
    await db.migrate(config.database_url)
    await db.connect(config.database_url)
    try:
        yield
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def pdf_issuer(
    config: Config, renderer: PdfRenderer | None = None, *, history_later: bool = False
) -> AsyncIterator[PdfIssuer]:
    """Renders the PDFs of issued invoices and credit notes, after their rows are committed;
    with `history_later`, history is left to serve's render queue (vault.render_queue)."""
    own = renderer is None
    renderer = renderer or PdfRenderer()
    stopped = False
    issuer = PdfIssuer(config, renderer, deferred=(lambda: None) if history_later else None)
    try:
        yield issuer
    except BaseException as exc:
        stopped = not isinstance(exc, Exception)  # cancelled, Ctrl-C or SIGTERM
        raise
    finally:
        await issuer.close()
        if own:
            # Stopped: end the workers now; the missing-PDF sweep renders what is left.
            renderer.abort() if stopped else renderer.close()


class PdfIssuer:
    """Renders and stores the PDFs of committed invoices (call it with their ids) and credit
    notes (`credit_notes(ids)`). Given `deferred` (a render queue will run: serve, or an
    import whose history serve renders), history (issued before the alert window) is left to
    the queue (vault.render_queue) and `deferred` is called, so an import, sync or API call
    of a backlog returns as soon as its rows are stored. Without it, all are rendered."""

    def __init__(self, config: Config, renderer: Renderer, clock: Clock = SYSTEM,
                 store: DocumentStore | None = None,
                 deferred: Callable[[], None] | None = None) -> None:
        """`store`: the service's; without one the issuer opens its own (`close()` it)."""
        self.config, self.renderer, self.clock = config, renderer, clock
        self._own_store: DocumentStore | None = None
        if store is None:
            store = self._own_store = DocumentStore.open(config.vault)
        self.store = store
        self.deferred = deferred

    async def close(self) -> None:
        """Close the store this issuer opened, if it opened one."""
        if self._own_store is not None:
            await self._own_store.close()

    async def news(self, invoice_ids: list[int]) -> list[Invoice]:
        """The invoices to render now; the others are history, for the render queue."""
        invoices = await Invoice.filter(id__in=invoice_ids)
        if self.deferred is None:
            return list(invoices)
        news_from = events.first_news_day(self.clock.now(), self.config.alerts.alert_window,
                                                self.config.seller.timezone)
        news = [i for i in invoices if not render_queue.is_history(i, news_from)]
        if len(news) < len(invoices):
            self.deferred()
        return news

    async def __call__(self, invoice_ids: list[int], each: Callable[[], None] = lambda: None
                       ) -> None:
        """Render and store the PDFs of those that are news; `each` is called as each one
        is stored."""
        invoices = await self.news(invoice_ids)

        async def one(invoice: Invoice) -> None:
            await issue_invoice_pdf(invoice, self.renderer, self.store, self.config.seller,
                                    clock=self.clock)
            each()

        await asyncio.gather(*(one(i) for i in invoices))

    async def credit_notes(self, note_ids: list[int]) -> None:
        await credit_note_issuer(self.renderer, self.store, self.config.seller,
                                 self.clock)(note_ids)


async def migrate(args: argparse.Namespace, config: Config) -> int:
    await db.migrate(config.database_url)
    print(f"schema up to date: {config.database_url.split('@')[-1]}")
    return EXIT_OK


async def import_file(args: argparse.Namespace, config: Config) -> int:
    if not args.file.is_file():
        raise UsageError(f"{args.file}: no such file")
    quiet = events.silenced() if args.no_alerts else contextlib.nullcontext()
    progress = ImportProgress(args.file.name, enabled=not args.no_progress,
                              always=args.progress)

    async with database(config), pdf_issuer(config, history_later=True) as issue:
        async def issue_counted(ids: list[int]) -> None:
            news = [i.id for i in await issue.news(ids)]  # history: serve renders it later
            await issue(news, progress.rendering(len(news)))

        with quiet:
            result = await import_csv(args.kind, args.file, on_issued=issue_counted,
                                      on_credited=issue.credit_notes,
                                      progress=progress, decimal_comma=args.decimal_comma,
                                      clock=SYSTEM, timezone=config.seller.timezone.key)
    print(f"{args.file}: {result.created} created, {result.updated} updated, "
          f"{result.unchanged} unchanged")
    return EXIT_OK


async def ask(args: argparse.Namespace, config: Config) -> int:
    config = with_secret_keys(config, generate=False)
    async with database(config):
        pipeline = Pipeline(config, LinkSigner(config.secret_keys), _clock(args))
        # The operator runs this on the server: the contact is taken as verified. It
        # arrives now, whatever day it is answered as of.
        request = Request(channel="cli", address=args.sender, text=" ".join(args.text),
                          authenticated=True, received_at=SYSTEM.now())
        try:
            answer = await pipeline.handle(request)
        finally:
            await pipeline.close()
    if answer.refused:
        raise UsageError(f"{args.sender}: not an active contact on file ({answer.refused})")
    print(answer.reply.as_text(), end="")
    return EXIT_OK


def _clock(args: argparse.Namespace) -> Clock:
    """The system clock, or with --today a clock stopped on that day that answers as of
    it (what was issued or paid later is left out)."""
    if not getattr(args, "today", None):
        return SYSTEM
    try:
        day = date.fromisoformat(args.today)
    except ValueError as exc:
        raise UsageError(f"--today: {args.today!r} is not a date (YYYY-MM-DD)") from exc
    return FixedClock.on(day, past=True)


async def audit_export(args: argparse.Namespace, config: Config) -> int:
    async with database(config):
        query = AuditEvent.all().order_by("id")
        if args.account:
            account = await Account.get_or_none(account_id=args.account)
            if account is None:
                raise UsageError(f"--account: no account {args.account!r}")
            query = query.filter(account_id=account.id)
        if args.since:
            query = query.filter(at__gte=_since(args.since))
        await _write_audit_csv(query, sys.stdout)
    return EXIT_OK


def _since(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--since: {text!r} is not a date (YYYY-MM-DD)") from exc
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def _write_audit_csv(query, out) -> None:  # type: ignore[no-untyped-def]
    accounts = dict(await Account.all().values_list("id", "account_id"))
    emails = dict(await Contact.all().values_list("id", "email"))
    writer = SafeCsvWriter(out)
    writer.writerow(["at", "action", "account_id", "contact", "document_id", "ip",
                     "user_agent", "data"])
    async for event in query:
        writer.writerow([event.at.isoformat(), event.action, accounts.get(event.account_id, ""),
                         emails.get(event.contact_id, ""), event.document_id or "", event.ip,
                         event.user_agent, json.dumps(event.data, sort_keys=True)])


async def serve(args: argparse.Namespace, config: Config) -> int:
    from bot.service import Service

    if not config.secret_keys and not args.demo:
        # A key file left by an earlier `serve --demo` must not quietly sign real links.
        raise ConfigError("serve: INVOICEBOT_SECRET_KEYS is not set (comma-separated keys, "
                          "oldest first, at least 32 characters each); `serve --demo` "
                          "uses a generated demo key instead")
    config = with_secret_keys(config, generate=args.demo)
    if args.demo:
        await _load_demo_if_empty(config)
    service = Service(config)
    try:
        await service.start()
    except BaseException:
        # What did start (a listener, the ORM, PDF workers) is stopped: nothing is left
        # accepting mail that no one will process, and the process can exit.
        await service.stop()
        raise
    await asyncio.to_thread(warn_if_wide, config.database_url, config.vault.folder)
    _print_banner(service, config, args.demo)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await service.stop()
    return EXIT_OK


async def _load_demo_if_empty(config: Config) -> None:
    from vault.demo import load_demo

    async with database(config), pdf_issuer(config) as issue:
        if await Invoice.all().exists():
            print("demo: the database has invoices already; not loading demo data")
            return
        print("demo: loading demo accounts, contacts and invoices, rendering PDFs ...")
        with events.silenced():  # history, not news: no alert for every demo invoice
            summary = await load_demo(SYSTEM, config.seller.timezone.key, on_issued=issue)
        print(f"demo: {summary}")


def _print_banner(service: object, config: Config, demo: bool) -> None:
    smtp_port = getattr(service, "smtp_port", 0)
    http_port = getattr(service, "http_port", 0)
    host = config.email.listen[0]
    to = sorted(config.email.addresses)[0]
    flag = f" --config {config.source}" if config.source != "config.toml" else ""
    print(f"invoicebot: SMTP on {host}:{smtp_port}, HTTP on {config.http_listen[0]}:{http_port}, "
          f"links on {config.public_url}", flush=True)  # a supervisor reads it now
    if not demo:
        return
    outbound = config.email.outbound
    print(f"""
Try it (in another terminal):
  .venv/bin/invoicebot{flag} ask --from ap@acme.example "invoices March"
  .venv/bin/invoicebot{flag} ask --from ap@acme.example "unpaid"
  .venv/bin/python -m bot.sendmail --port {smtp_port} --from ap@acme.example \\
      --to {to} "invoices March"
Replies to email land in {outbound.removeprefix("maildir:")}/new/ ({outbound}).
Stop with Ctrl-C.""")
