"""Ingestion throughput: invoices/s through the API and through CSV import, PDFs on and off.

Per database, in a process of its own, on a scratch database made for the run and
dropped after it (SQLite: a file under var/bench/; PostgreSQL: invoicebot_bench_ingest_*
next to --pg's). Accounts and contacts are loaded first and not timed; each row then
stores --ingest-count new invoices (two lines each, distinct numbers per row) after a
one-invoice warm-up through the same path. Rows with PDFs on store fewer invoices
(--ingest-pdf-count): rendering dominates them, at a few per second per core.

API   The real Service (bot.service) on loopback; a real API key (made by the function
      `invoicebot apikey create` calls); `POST /api/v1/invoices` with {"items": [...]} of
      1,000 invoices per request, one request at a time over HTTP. Timed from the first
      request sent to the last answer (201 with every item stored) received.
CSV   What `invoicebot import invoices FILE` runs (bot.commands_cli.import_file):
      import_csv through the same writer, then the issuer renders the PDFs. Timed from
      the start of the import to its end (process start-up, migrations and the PDF
      workers' start not counted).

PDFs on: what the product does. The service renders the PDFs of API invoices before it
answers, with its one PDF worker; the CLI renders with one worker per core.
PDFs off: the renderer is replaced by a stand-in that returns a copy of one real invoice
PDF with the invoice's number appended (no WeasyPrint). Everything else still runs: the
writer's transaction with its events, the snapshot read, the document stored (its own
fsync'd file per invoice) and linked to the invoice. "on" minus "off" is rendering.

History  --history-count invoices (default 100,000) issued a year ago and more, before the
      alert window, through the API of the real service with its own render queue
      (vault.render_queue): timed from the first request sent until every invoice is
      found by number (one query per 1,000 numbers) and a sample of --history-sample of
      them, spread over the backlog, was asked for ("invoice NUMBER" through the bot's
      pipeline) and its PDF downloaded over HTTP through the reply's link. The row also
      says how many PDFs the queue had rendered by then.

The notifier is off ([notifier] enabled = false): events are recorded, no alert is sent
during the run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.bench.common import ROOT, Column, Rows, console
from vault.clock import SYSTEM
from vault.pdf import InvoiceSnapshot, PdfRenderer, render_invoice

BATCH = 1000  # the API's largest batch
ACCOUNTS = 50
ROWS = (("API", "off"), ("CSV", "off"), ("API", "on"), ("CSV", "on"))


class StandInRenderer:
    """"PDFs off": one real render (the warm-up invoice's), then copies of it that differ
    by a trailing PDF comment, so each invoice still gets a document of its own."""

    def __init__(self) -> None:
        self.template: bytes | None = None

    async def render(self, snapshot: InvoiceSnapshot) -> bytes:
        if self.template is None:
            self.template = await asyncio.to_thread(render_invoice, snapshot)
        return self.template + f"%invoicebot-bench {snapshot.number}\n".encode()


# ---- data -------------------------------------------------------------------------------------

def invoices(prefix: str, count: int, today: date, *, age_days: int = 0
             ) -> list[dict[str, Any]]:
    """API items (the CSV rows say the same): two lines each, spread over the accounts;
    issued `age_days` ago and up to a year before that when given (history)."""
    def issued(n: int) -> date:
        return today - timedelta(days=age_days + n % 365) if age_days else today

    return [{
        "account_id": f"BENCH-{n % ACCOUNTS:03d}", "invoice_number": f"{prefix}-{n:06d}",
        "external_id": f"{prefix}-{n:06d}", "issue_date": issued(n).isoformat(),
        "due_date": (issued(n) + timedelta(days=30)).isoformat(), "currency": "EUR",
        "po_number": f"PO-{n:06d}", "lines": [
            {"description": "Container freight", "quantity": "2", "unit_price": "1200.00",
             "tax_rate": "19"},
            {"description": "Customs handling", "quantity": "1", "unit_price": f"{n % 500}.50",
             "tax_rate": "7"},
        ]} for n in range(1, count + 1)]


def write_csv(path: Path, items: list[dict[str, Any]]) -> Path:
    header = ("account_id", "invoice_number", "issue_date", "due_date", "currency",
              "description", "quantity", "unit_price", "tax_rate", "po_number")
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        for item in items:
            for line in item["lines"]:
                out.writerow([item[c] if c in item else line[c] for c in header])
    return path


def write_parties(folder: Path) -> tuple[Path, Path]:
    accounts, contacts = folder / "accounts.csv", folder / "contacts.csv"
    with accounts.open("w", newline="") as a, contacts.open("w", newline="") as c:
        wa, wc = csv.writer(a), csv.writer(c)
        wa.writerow(("account_id", "name", "timezone", "locale"))
        wc.writerow(("account_id", "email", "name", "role"))
        for n in range(ACCOUNTS):
            wa.writerow((f"BENCH-{n:03d}", f"Bench Customer {n:03d} GmbH", "Europe/Berlin",
                         "de_DE"))
            wc.writerow((f"BENCH-{n:03d}", f"ap@bench{n:03d}.example", f"AP {n:03d}", "ap"))
    return accounts, contacts


# ---- a scratch database --------------------------------------------------------------------

@asynccontextmanager
async def scratch_database(label: str, pg: str | None, folder: Path) -> AsyncIterator[str]:
    """A new, empty database for this run; removed afterwards."""
    if label == "sqlite":
        path = folder / "ingest.db"
        yield f"sqlite://{path}"
        return
    import asyncpg  # type: ignore[import-untyped]

    assert pg
    name = f"invoicebot_bench_ingest_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{pg.rpartition('/')[0]}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def bench_config(url: str, folder: Path) -> Any:
    from vault.config import load_config

    env = {
        "INVOICEBOT_DATABASE_URL": url,
        "INVOICEBOT_VAULT_PATH": str(folder / "vault"),
        "INVOICEBOT_EMAIL_OUTBOUND": f"maildir:{folder / 'outbox'}",
        "INVOICEBOT_EMAIL_LISTEN": "127.0.0.1:0",
        "INVOICEBOT_HTTP_LISTEN": "127.0.0.1:0",
        "INVOICEBOT_SECRET_KEYS": "bench-" + "k" * 40,
        "INVOICEBOT_NOTIFIER_ENABLED": "false",
    }
    (folder / "defaults.toml").write_text("")  # an empty file: the defaults, and env
    return load_config(folder / "defaults.toml", env=env)


async def load_parties(config: Any, folder: Path) -> str:
    """Accounts and contacts (not timed) and an ingest key; returns the key."""
    from bot.commands_cli import database
    from vault.api.keys import create_key
    from vault.ingest.csv import import_csv
    from vault.vocabulary import ApiScope

    accounts, contacts = write_parties(folder)
    async with database(config):
        for kind, path in (("accounts", accounts), ("contacts", contacts)):
            await import_csv(kind, path, clock=SYSTEM, progress=False)
        return await create_key("bench", ApiScope.INGEST, SYSTEM.now())


# ---- the two paths ---------------------------------------------------------------------------

async def through_api(config: Any, key: str, pdfs: str, items: list[dict[str, Any]],
                      warm: list[dict[str, Any]]) -> float:
    """Seconds to store `items` through the running service's API, in batches of BATCH."""
    from bot.service import Service

    service = Service(config, pdf_renderer=StandInRenderer() if pdfs == "off" else None)
    await service.start()
    try:
        url = f"http://127.0.0.1:{service.http_port}/api/v1/invoices"
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        bodies = [json.dumps({"items": items[i:i + BATCH]}).encode()
                  for i in range(0, len(items), BATCH)]
        async with httpx.AsyncClient(timeout=None, headers=headers) as client:
            await _post(client, url, json.dumps({"items": warm}).encode(), len(warm))
            started = time.perf_counter()
            for body in bodies:
                await _post(client, url, body, min(BATCH, len(items)))
            return time.perf_counter() - started
    finally:
        await service.stop()


async def _post(client: httpx.AsyncClient, url: str, body: bytes, count: int) -> None:
    answer = await client.post(url, content=body)
    if answer.status_code != 201:
        raise RuntimeError(f"POST {url}: {answer.status_code} {answer.text[:300]}")
    stored = answer.json()["items"]
    if len(stored) != count or any(i.get("result") != "created" for i in stored):
        raise RuntimeError(f"POST {url}: expected {count} created, got {answer.text[:300]}")


async def through_csv(config: Any, pdfs: str, items: list[dict[str, Any]],
                      warm: list[dict[str, Any]], folder: Path) -> float:
    """Seconds `invoicebot import invoices FILE` spends importing `items` (rendering their
    PDFs included), as bot.commands_cli.import_file runs it."""
    from bot.commands_cli import PdfIssuer, database, pdf_issuer
    from vault.ingest.csv import import_csv

    path = write_csv(folder / f"invoices-{pdfs}.csv", items)
    first = write_csv(folder / f"warm-{pdfs}.csv", warm)
    async with database(config):
        if pdfs == "off":
            return await _import(PdfIssuer(config, StandInRenderer()), config, first, path,
                                 len(items), import_csv)
        # The CLI's pool (one worker per core), every worker started before the timing, as
        # the service's one worker is started by the API rows' warm-up.
        renderer = PdfRenderer()
        try:
            await renderer.warm_up()
            async with pdf_issuer(config, renderer) as issue:
                return await _import(issue, config, first, path, len(items), import_csv)
        finally:
            renderer.close()


async def _import(issue: Callable[[list[int]], Awaitable[None]], config: Any, first: Path,
                  path: Path, count: int, import_csv: Any) -> float:
    tz = config.seller.timezone.key
    await import_csv("invoices", first, on_issued=issue, progress=False, clock=SYSTEM,
                     timezone=tz)
    started = time.perf_counter()
    result = await import_csv("invoices", path, on_issued=issue, progress=False,
                              clock=SYSTEM, timezone=tz)
    seconds = time.perf_counter() - started
    if result.created != count:
        raise RuntimeError(f"{path.name}: {result.created} created, expected {count}")
    return seconds


async def through_history(config: Any, key: str, count: int, sample: int
                          ) -> tuple[float, int]:
    """Seconds until `count` history invoices stored through the API are all found by
    number and `sample` of their PDFs were downloaded; and how many the queue rendered."""
    from bot.messages import Request
    from bot.service import Service
    from vault.models import Invoice

    items = invoices("HIST", count, SYSTEM.today(), age_days=365)
    service = Service(config)  # its own renderer and render queue, as `serve` runs
    await service.start()
    try:
        url = f"http://127.0.0.1:{service.http_port}/api/v1/invoices"
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        batches = [items[i:i + BATCH] for i in range(0, len(items), BATCH)]
        async with httpx.AsyncClient(timeout=None, headers=headers) as client:
            started = time.perf_counter()
            for batch in batches:
                await _post(client, url, json.dumps({"items": batch}).encode(), len(batch))
            for batch in batches:
                numbers = [i["invoice_number"] for i in batch]
                if await Invoice.filter(number__in=numbers).count() != len(numbers):
                    raise RuntimeError("history: an invoice stored is not found by number")
            step = max(1, count // max(sample, 1))
            for item in items[::step][:sample]:
                await _download(service, client, Request(
                    "cli", f"ap@bench{item['account_id'][-3:]}.example",
                    f"invoice {item['invoice_number']}", True, SYSTEM.now()))
            seconds = time.perf_counter() - started
        return seconds, await Invoice.filter(number__startswith="HIST-").exclude(
            document_id=None).count()
    finally:
        await service.stop()


async def _download(service: Any, client: httpx.AsyncClient, request: Any) -> None:
    import re

    text = (await service.pipeline.handle(request)).reply.as_text()
    link = re.search(r"https?://\S+/d/[A-Za-z0-9._-]+", text)
    if link is None:
        raise RuntimeError(f"history: no PDF link in the answer to {request.text!r}")
    local = re.sub(r"^https?://[^/]+", f"http://127.0.0.1:{service.http_port}", link[0])
    pdf = await client.get(local)
    if pdf.status_code != 200 or not pdf.content.startswith(b"%PDF"):
        raise RuntimeError(f"history: {local}: {pdf.status_code}")


async def documents_missing(config: Any, prefix: str) -> int:
    from bot.commands_cli import database
    from vault.models import Invoice

    async with database(config):
        return await Invoice.filter(number__startswith=prefix, document_id=None).count()


# ---- one database's column ---------------------------------------------------------------

def figure(source: str, pdfs: str, count: int) -> str:
    how = f"API, {count:,} in batches of up to 1,000" if source == "API" else \
        f"CSV import of {count:,}"
    return f"ingest: {how}, PDFs {pdfs}: invoices/s (s)"


async def backend(label: str, args: argparse.Namespace, root: Path = ROOT) -> Column:
    folder = root / f"ingest-{label}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    today = SYSTEM.today()
    rows: Rows = []
    try:
        async with scratch_database(label, args.pg, folder) as url:
            config = bench_config(url, folder)
            key = await load_parties(config, folder)
            for source, pdfs in ROWS:
                prefix = f"{source}-{pdfs.upper()}"
                count = args.ingest_count if pdfs == "off" else args.ingest_pdf_count
                items = invoices(prefix, count, today)
                warm = invoices(f"{prefix}-WARM", 1, today)
                console.log(f"{label}: ingest: {count:,} invoices, {source}, PDFs {pdfs}")
                if source == "API":
                    seconds = await through_api(config, key, pdfs, items, warm)
                else:
                    seconds = await through_csv(config, pdfs, items, warm, folder)
                missing = await documents_missing(config, f"{prefix}-")
                if missing:
                    raise RuntimeError(f"{source}, PDFs {pdfs}: {missing} invoices without PDF")
                rate = f"{count / seconds:.1f} ({seconds:.1f} s)"
                rows.append((figure(source, pdfs, count), rate))
            if args.history_count:
                console.log(f"{label}: ingest: {args.history_count:,} history invoices, API")
                rows.append(await _history_row(config, key, args))
    finally:
        _remove(folder)
    return rows, ""


async def _history_row(config: Any, key: str, args: argparse.Namespace) -> tuple[str, str]:
    seconds, rendered = await through_history(config, key, args.history_count,
                                              args.history_sample)
    return (f"ingest: history of {args.history_count:,} via API, answerable "
            f"({args.history_sample} PDFs downloaded): s",
            f"{seconds:.1f} ({rendered:,} rendered by the queue by then)")


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
