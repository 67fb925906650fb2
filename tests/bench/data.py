"""The benchmark's vault: many invoice rows, built once with raw SQL and cached.

The schema comes from the project's own migrations, the column lists and defaults from the
models (tests/bench/tables.py, so a new column cannot break it); the rows are written with
sqlite3's executemany (SQLite) or asyncpg's COPY (PostgreSQL), which is ~50x faster than
the ORM. A build is renamed into place only when complete, and is reused while its shape
and the schema the migrations create are unchanged (`--rebuild` forces a new one). A run
first empties the tables the service writes per request (RUN_TABLES), so runs start alike.

PDFs exist only for the invoices a benchmark run asks for (`ensure_documents`): a few are
rendered for real by the project's renderer, the rest are stored through the
DocumentStore as copies that differ by a trailing PDF comment, so every asked invoice has
its own Document row and file, as in production.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tortoise import connections

from tests.bench import tables
from vault import db
from vault.clock import SYSTEM
from vault.config import Config
from vault.documents import DocumentStore, issue_invoice_pdf
from vault.models import Account, Contact, Invoice, InvoiceLine
from vault.pdf import PdfRenderer

TODAY = date(2026, 11, 21)  # what "today" is for the data and the service ("March" = 2026-03)
FIRST_DAY = date(2023, 12, 1)  # three years of invoices before TODAY
LOCALES = (("de_DE", "Europe/Berlin", "EUR"), ("en_GB", "Europe/London", "GBP"),
           ("fr_FR", "Europe/Paris", "EUR"), ("en_US", "America/New_York", "USD"))
REAL_PDFS = 20  # rendered by WeasyPrint per run that needs new documents; the rest are copies
# Per-run rows the service writes; emptied before each run so every run starts alike.
RUN_TABLES = ("inbound_message", "outbox_message", "download_grant", "audit_event",
              "escalation")


@dataclass(frozen=True)
class Shape:
    invoices: int = 1_000_000
    accounts: int = 20_000
    seed: int = 1
    rows: int = 2  # how rows are made: a change to the generator makes a new vault
    schema: str = ""  # schema_version(): a cached vault is reused only for the same schema

    @property
    def name(self) -> str:
        return f"{self.invoices}x{self.accounts}s{self.seed}"

    def meta(self) -> dict[str, object]:
        return asdict(self)


async def schema_version(root: Path) -> str:
    """A hash of the schema the migrations create: a new index or column means a new
    vault, a reformatted migration does not."""
    probe = root / "schema-probe.db"
    for stale in (probe, *_sidecars(probe)):
        stale.unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    await db.migrate(f"sqlite://{probe}")
    conn = sqlite3.connect(probe)
    try:
        ddl = sorted(row[0] for row in conn.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name <> 'sqlite_sequence'"))
    finally:
        conn.close()
    for stale in (probe, *_sidecars(probe)):
        stale.unlink(missing_ok=True)
    return hashlib.sha256("\n".join(ddl).encode()).hexdigest()[:16]


def contact_email(account: int) -> str:
    return f"ap@customer{account:05d}.example"


# ---- rows -----------------------------------------------------------------------------------

def account_rows(shape: Shape) -> Iterator[tuple[object, ...]]:
    for i in range(1, shape.accounts + 1):
        locale, tz, _ = LOCALES[i % len(LOCALES)]
        yield (i, f"ACC-{i:05d}", f"Customer {i:05d} Ltd", tz, locale, "standard",
               f"TAX{i:08d}", f"{i} Market Street")


def contact_rows(shape: Shape) -> Iterator[tuple[object, ...]]:
    for i in range(1, shape.accounts + 1):
        yield (i, contact_email(i), f"AP team {i:05d}", "ap", "", "", True, i)


def invoice_rows(shape: Shape) -> Iterator[tuple[object, ...]]:
    """(id, number, issue, due, currency, po, subtotal, tax, paid (cents), status, account).

    Skewed like real customers: the account of rank r gets a share ~ r**-0.5 (the largest
    ~3,500 of 1M, the median ~35). Numbers run per year in issue order (INV-2026-000042).
    """
    rng = random.Random(shape.seed)
    weights = list(itertools.accumulate(r**-0.5 for r in range(1, shape.accounts + 1)))
    owners = rng.choices(range(1, shape.accounts + 1), cum_weights=weights, k=shape.invoices)
    span = (TODAY - FIRST_DAY).days
    days = sorted(rng.randrange(span) for _ in range(shape.invoices))
    serial: dict[int, int] = {}
    for i, (owner, day) in enumerate(zip(owners, days, strict=True), start=1):
        issued = FIRST_DAY + timedelta(days=day)
        serial[issued.year] = serial.get(issued.year, 0) + 1
        due = issued + timedelta(days=30)
        subtotal = rng.randrange(5_000, 2_000_000)
        tax = (subtotal * 19 + 50) // 100  # rounded as the e-invoice's check does
        status, paid = _status(rng.random(), due, subtotal + tax)
        po = f"PO-{rng.randrange(10**6):06d}" if rng.random() < 0.5 else ""
        yield (i, f"INV-{issued.year}-{serial[issued.year]:06d}", issued, due,
               LOCALES[owner % len(LOCALES)][2], po, subtotal, tax, paid, status, owner)


def _status(r: float, due: date, total: int) -> tuple[str, int]:
    if r < 0.01:
        return "void", 0
    if due < TODAY:
        return ("paid", total) if r < 0.88 else ("overdue", 0)
    if r < 0.15:
        return "partially_paid", total // 2
    return "open", 0


def _invoice_values(row: tuple[object, ...]) -> tuple[object, ...]:
    """An invoice_rows() row as values for INVOICE_GIVEN (money in Decimal)."""
    i, number, issued, due, currency, po, sub, tax, paid, status, owner = row
    assert isinstance(sub, int) and isinstance(tax, int) and isinstance(paid, int)
    cents = Decimal("0.01")
    return (i, number, issued, due, currency, po, sub * cents, tax * cents,
            (sub + tax) * cents, paid * cents, "void" if status == "void" else "", status,
            f"{i:064x}", owner)


# The fields the builder gives; every other column of the table takes the model's own
# default (tests/bench/tables.py), so a new column cannot break the build.
ACCOUNT_GIVEN = ("id", "account_id", "name", "timezone", "locale", "tier", "tax_id", "address")
CONTACT_GIVEN = ("id", "email", "name", "role", "locale", "timezone", "active", "account_id")
INVOICE_GIVEN = ("id", "number", "issue_date", "due_date", "currency", "po_number", "subtotal",
                 "tax_total", "total", "amount_paid", "file_status", "status", "content_hash",
                 "account_id")


def loads(shape: Shape, stamp: datetime) -> list[tuple[str, tuple[str, ...],
                                                       Iterator[tuple[object, ...]]]]:
    """(table, its columns, its rows) for each table the builder fills, in load order."""
    given = ((Account, ACCOUNT_GIVEN, account_rows(shape)),
             (Contact, CONTACT_GIVEN, contact_rows(shape)),
             (Invoice, INVOICE_GIVEN, (_invoice_values(r) for r in invoice_rows(shape))))
    return [(tables.table_name(model), tables.columns(model),
             tables.records(model, names, rows, stamp)) for model, names, rows in given]


# ---- SQLite ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Vault:
    url: str
    built_now: bool
    build_seconds: float  # of this build, or of the cached one
    size: str


async def sqlite_vault(root: Path, shape: Shape, rebuild: bool) -> Vault:
    """A built vault: from the cache when its shape and schema match, else built now."""
    path = root / f"vault-{shape.name}.db"
    meta = path.with_suffix(".json")
    if not rebuild and path.exists() and meta.exists() and _cached(meta, shape):
        seconds = float(json.loads(meta.read_text()).get("build_seconds", 0))
        return Vault(f"sqlite://{path}", False, seconds, _file_size(path))
    started = time.perf_counter()
    building = path.with_suffix(".building")
    for stale in (path, meta, building, *_sidecars(path), *_sidecars(building)):
        stale.unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    await db.migrate(f"sqlite://{building}")
    _fill_sqlite(building, shape)
    building.rename(path)
    seconds = time.perf_counter() - started
    meta.write_text(json.dumps({**shape.meta(), "build_seconds": round(seconds, 1)}))
    return Vault(f"sqlite://{path}", True, seconds, _file_size(path))


def _file_size(path: Path) -> str:
    return f"SQLite {sqlite3.sqlite_version}, file {path.stat().st_size / 2**20:.0f} MiB"


def _cached(meta: Path, shape: Shape) -> bool:
    stored = json.loads(meta.read_text())
    return all(stored.get(k) == v for k, v in shape.meta().items())


def _sidecars(path: Path) -> tuple[Path, Path]:
    return Path(f"{path}-wal"), Path(f"{path}-shm")


def _fill_sqlite(path: Path, shape: Shape) -> None:
    """Bulk insert in one transaction, with the invoice table's secondary indexes dropped
    during the load and recreated (from their own DDL) after it."""
    stamp = datetime.now(UTC)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-262144",
                       "temp_store=MEMORY"):
            conn.execute(f"PRAGMA {pragma}")
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' "
                               "AND tbl_name='invoice' AND sql IS NOT NULL").fetchall()
        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for table, columns, rows in loads(shape, stamp):
            _insert(conn, table, columns, map(tables.sqlite_values, rows))
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")  # what the service runs with
    finally:
        conn.close()


def _insert(conn: sqlite3.Connection, table: str, columns: tuple[str, ...],
            rows: Iterator[tuple[object, ...]]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)


# ---- PostgreSQL ------------------------------------------------------------------------------

async def pg_vault(admin_url: str, shape: Shape, rebuild: bool, name: str = "") -> Vault:
    """A database next to admin_url's, named for the shape (or `name`); COPY-loaded once,
    then reused."""
    import asyncpg  # type: ignore[import-untyped]

    base = admin_url.rpartition("/")[0]
    name = name or f"invoicebot_bench_{shape.name}"
    admin = await asyncpg.connect(admin_url)
    try:
        stored = None if rebuild else await _pg_meta(base, name, admin)
        if stored is not None and all(stored.get(k) == v for k, v in shape.meta().items()):
            return Vault(f"{base}/{name}", False, float(stored.get("build_seconds", 0)),
                         await _pg_size(admin, name))
        started = time.perf_counter()
        for stale in (name, f"{name}_building"):
            await admin.execute(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}_building"')
        await db.migrate(f"{base}/{name}_building")
        await _fill_pg(f"{base}/{name}_building", shape, started)
        await admin.execute(f'ALTER DATABASE "{name}_building" RENAME TO "{name}"')
        return Vault(f"{base}/{name}", True, time.perf_counter() - started,
                     await _pg_size(admin, name))
    finally:
        await admin.close()


async def _pg_size(admin: Any, name: str) -> str:
    size = await admin.fetchval("SELECT pg_database_size($1)", name)
    version = await admin.fetchval("SHOW server_version")
    return f"PostgreSQL {version.split()[0]}, database {size / 2**20:.0f} MiB"


async def _pg_meta(base: str, name: str, admin: Any) -> dict[str, Any] | None:
    import asyncpg

    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
        return None
    conn = await asyncpg.connect(f"{base}/{name}")
    try:
        stored = await conn.fetchval("SELECT meta FROM bench_meta")
    except asyncpg.PostgresError:
        return None
    finally:
        await conn.close()
    return json.loads(stored) if stored else None


async def _fill_pg(url: str, shape: Shape, started: float) -> None:
    import asyncpg

    stamp = datetime.now(UTC)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            for table, columns, rows in loads(shape, stamp):
                await conn.copy_records_to_table(table, columns=columns, records=rows)
            for table in ("account", "contact", "invoice"):
                await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"(SELECT max(id) FROM {table}))")
        await conn.execute("ANALYZE")  # what autovacuum would have done on a live database
        seconds = round(time.perf_counter() - started, 1)
        await conn.execute("CREATE TABLE bench_meta (meta text NOT NULL)")
        await conn.execute("INSERT INTO bench_meta VALUES ($1)",
                           json.dumps({**shape.meta(), "build_seconds": seconds}))
    finally:
        await conn.close()


# ---- per run: clean slate, what to ask, PDFs for what is asked --------------------------------

async def reset_run_tables() -> None:
    conn = connections.get("default")
    for table in RUN_TABLES:
        await conn.execute_script(f'DELETE FROM "{table}"')


@dataclass(frozen=True)
class Ask:
    kind: str  # "month" (invoices March) or "number" (invoice INV-...)
    account: int
    text: str
    invoice_ids: tuple[int, ...]  # what the answer lists

    @property
    def sender(self) -> str:
        return contact_email(self.account)


async def plan(shape: Shape, count: int, seed: int) -> list[Ask]:
    """`count` requests from random accounts, alternating the two kinds (ORM reads)."""
    rng = random.Random(seed)
    march = (date(2026, 3, 1), date(2026, 3, 31))
    asks = []
    for i in range(count):
        account = rng.randint(1, shape.accounts)
        invoices = Invoice.filter(account_id=account)
        if i % 2:
            total = await invoices.count()
            if total:
                found = await invoices.order_by("id").offset(rng.randrange(total)).first()
                assert found is not None
                asks.append(Ask("number", account, f"invoice {found.number}", (found.id,)))
                continue
        ids = await invoices.filter(issue_date__gte=march[0], issue_date__lte=march[1]) \
            .values_list("id", flat=True)
        asks.append(Ask("month", account, "invoices March", tuple(int(x) for x in ids)))
    return asks


async def plan_largest(count: int) -> list[Ask]:
    """"invoices March" from the account with the most invoices (account 1, by construction)."""
    ids = await Invoice.filter(account_id=1, issue_date__gte=date(2026, 3, 1),
                               issue_date__lte=date(2026, 3, 31)).values_list("id", flat=True)
    return [Ask("largest", 1, "invoices March", tuple(int(x) for x in ids))] * count


async def ensure_documents(asks: list[Ask], config: Config, workers: int) -> tuple[int, float]:
    """Give every asked invoice a Document; returns (how many were new, seconds)."""
    started = time.perf_counter()
    wanted = sorted({i for ask in asks for i in ask.invoice_ids})
    missing: list[Invoice] = []
    for start in range(0, len(wanted), 500):
        missing += await Invoice.filter(id__in=wanted[start:start + 500], document_id=None) \
            .order_by("id")
    if not missing:
        return 0, time.perf_counter() - started
    store = DocumentStore.open(config.vault)
    real, copies = missing[:REAL_PDFS], missing[REAL_PDFS:]
    for invoice in real:
        await InvoiceLine.get_or_create(
            invoice_id=invoice.id, position=1,
            defaults={"description": f"Supplies {invoice.issue_date:%B %Y}", "quantity": 1,
                      "unit_price": invoice.subtotal, "tax_rate": Decimal(19),
                      "amount": invoice.subtotal})
    renderer = PdfRenderer(max_workers=workers)
    try:
        documents = await asyncio.gather(
            *(issue_invoice_pdf(i, renderer, store, config.seller, clock=SYSTEM)
              for i in real))
    finally:
        renderer.close()
    templates = [await store.read(d) for d in documents]
    for n, invoice in enumerate(copies):
        data = templates[n % len(templates)] + f"%invoicebot-bench {invoice.number}\n".encode()
        document = await store.put(data)
        await Invoice.filter(id=invoice.id).update(document_id=document.id)
    await store.close()
    return len(missing), time.perf_counter() - started
