"""Invoice PDFs: a frozen snapshot of an invoice, rendered once by WeasyPrint in a process pool.

As in pretix, building the invoice (a snapshot of addresses, lines and totals, taken from
committed rows) is separate from rendering it. The snapshot holds only str, Decimal and
date values so it pickles into a worker process; `render_invoice` runs there, because
WeasyPrint is CPU-bound and blocking and must never run on the event loop.

Speed (profiled with cProfile on tests/bench/pdf.py's invoice, CPU time per render): the
plain WeasyPrint call spends about a third of its time on a fresh FontConfiguration
(fontconfig and Pango caches start cold) and on parsing the stylesheet; the rest is
WeasyPrint's own Python: cascade ~15%, boxes ~10%, layout ~40%, painting ~15%, PDF ~5%.
Each worker therefore keeps one FontConfiguration and the parsed stylesheet for all its
renders, and uses our "Invoice Sans" (DejaVu Sans pre-subset by vault/fonts.py). Subsetting
it per PDF with HarfBuzz (libharfbuzz-subset, in C) is cheaper than embedding it whole,
since embedding whole makes WeasyPrint read every glyph's width with fontTools on each
render, and gives PDFs a third the size; without HarfBuzz-Subset WeasyPrint would subset
with fontTools, so there the font is embedded whole (full_fonts). `make bench`
(tests/bench/pdf.py) measures it beside the plain call. Rendering is deterministic (the
creation date is the issue date), so the same invoice gives the same bytes and the
document store dedupes it.

E-invoices: with `[seller] e_invoicing` on, the worker renders a PDF/A-3b and embeds the
invoice's Factur-X XML (vault.einvoice) in the same call.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import mimetypes
import multiprocessing
import multiprocessing.util
import os
import shutil
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from babel import Locale, UnknownLocaleError

from vault import einvoice, metrics
from vault.config import SellerConfig
from vault.models import Account, Invoice, InvoiceLine
from vault.pdf_html import credit_note_html, invoice_html
from vault.pool_worker import exit_with_parent
from vault.vocabulary import InvoiceStatus

TEMPLATES = Path(__file__).parent / "templates"
FONT_FILES = (TEMPLATES / "fonts" / "InvoiceSans-Regular.ttf",
              TEMPLATES / "fonts" / "InvoiceSans-Bold.ttf")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Party:
    name: str
    address: str = ""
    tax_id: str = ""


@dataclass(frozen=True)
class LineSnapshot:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal  # percent, e.g. Decimal("19.000")
    amount: Decimal  # net


@dataclass(frozen=True)
class TaxBreakdown:
    rate: Decimal  # percent
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class InvoiceSnapshot:
    """Everything printed on an invoice, as plain values that pickle into a worker."""

    seller: Party
    buyer: Party
    account_id: str  # the account's external id, e.g. "ACME-01"
    number: str
    po_number: str
    entity: str
    issue_date: date
    due_date: date
    currency: str
    locale: str  # a locale Babel knows, e.g. "de_DE"
    payment_terms: str
    status: str
    lines: tuple[LineSnapshot, ...] = field(default_factory=tuple)
    subtotal: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    amount_paid: Decimal = Decimal(0)
    e_invoicing: bool = False  # embed Factur-X XML (vault.einvoice); [seller] e_invoicing
    iban: str = ""  # the seller's, for the e-invoice's payment means
    bic: str = ""
    # A credit note (vault.credit_notes) is printed and e-invoiced from the same snapshot:
    # type code 381, referencing the invoice it credits (EN 16931 BT-25), if any.
    credit_note: bool = False
    credits: str = ""  # the credited invoice's number
    credits_issued: date | None = None  # and its issue date
    reason: str = ""
    also_english: bool = False  # labels in English too; [seller] documents_also_english

    @property
    def amount_due(self) -> Decimal:
        return max(self.total - self.amount_paid, Decimal(0))

    def taxes(self) -> list[TaxBreakdown]:
        """Net amount and tax per rate, lowest rate first, tax rounded half-up per rate."""
        nets: dict[Decimal, Decimal] = {}
        for line in self.lines:
            nets[line.tax_rate] = nets.get(line.tax_rate, Decimal(0)) + line.amount
        return [
            TaxBreakdown(rate, net, (net * rate / 100).quantize(CENT, ROUND_HALF_UP))
            for rate, net in sorted(nets.items())
        ]


async def snapshot(invoice: Invoice, seller: SellerConfig) -> InvoiceSnapshot:
    """Freeze an invoice with its account and lines (loaded here) for rendering.

    The PDF is the invoice as issued: its amount due is the total, whatever was paid by
    the time it is rendered (a re-rendered invoice would otherwise print a stale "amount
    due" that a later payment contradicts). Payments are told by a receipt per payment
    (vault.receipts), offered next to the invoice.
    """
    account = await Account.get(id=invoice.account_id)
    lines = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")
    return InvoiceSnapshot(
        seller=Party(seller.name, seller.address, seller.tax_id),
        buyer=Party(account.name, account.address, account.tax_id),
        account_id=account.account_id,
        number=invoice.number,
        po_number=invoice.po_number,
        entity=invoice.entity,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        locale=babel_locale(account.locale),
        payment_terms=seller.payment_terms,
        status=str(invoice.status),
        lines=tuple(
            LineSnapshot(ln.description, ln.quantity, ln.unit_price, ln.tax_rate, ln.amount)
            for ln in lines
        ),
        subtotal=invoice.subtotal,
        tax_total=invoice.tax_total,
        total=invoice.total,
        e_invoicing=seller.e_invoicing,
        iban=seller.iban,
        bic=seller.bic,
        also_english=seller.documents_also_english,
    )


def babel_locale(tag: str) -> str:
    """"de-DE", "de_DE" or "de" as Babel spells it; anything unknown falls back to "en"."""
    try:
        return str(Locale.parse((tag or "en").replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return "en"


# ---- in the worker process ----------------------------------------------------------------

class FetchRefused(ValueError):
    """WeasyPrint asked for something other than a file under vault/templates."""


def local_path(url: str) -> Path:
    """The template file a file:// URL names; raises FetchRefused for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise FetchRefused(f"refusing to fetch {url!r}: only bundled template files")
    path = Path(unquote(parts.path)).resolve()
    if not path.is_relative_to(TEMPLATES.resolve()):
        raise FetchRefused(f"refusing to read {path}: not under {TEMPLATES}")
    return path


@functools.cache
def _import_weasyprint() -> None:
    """Import WeasyPrint lazily: the service process never needs it (~1 s, ~40 MB).

    Without Debian's libharfbuzz-subset0 it warns at import that future versions will
    need it. Without it we embed a pre-subset font whole and do not depend on subsetting
    speed, so that warning is silenced here rather than failing every test that renders.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
        import weasyprint  # noqa: F401


@functools.cache
def local_fetcher() -> Any:
    """A WeasyPrint URLFetcher that serves template files and refuses every other URL."""
    _import_weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            # Without a Content-Type WeasyPrint takes a <link>ed stylesheet for text/plain
            # and drops it (statement.css was silently ignored).
            path = local_path(url)
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), headers={"Content-Type": kind})

    return LocalFetcher()


@dataclass(frozen=True)
class _Engine:
    font_config: Any
    stylesheet: Any
    charset: frozenset[int]  # code points Invoice Sans covers
    fast_subset: bool  # HarfBuzz-Subset is there: subsetting per PDF costs little


@functools.cache
def _engine() -> _Engine:
    """Per-process state reused by every render: fonts registered and CSS parsed once."""
    _import_weasyprint()
    from fontTools.ttLib import TTFont
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    stylesheet = CSS(filename=str(TEMPLATES / "invoice.css"), font_config=font_config,
                     url_fetcher=local_fetcher())
    _remove_at_exit(getattr(font_config, "_folder", None))
    from weasyprint.text.ffi import harfbuzz_subset

    cmaps = [set(TTFont(path)["cmap"].getBestCmap()) for path in FONT_FILES]
    return _Engine(font_config, stylesheet, frozenset.intersection(*map(frozenset, cmaps)),
                   fast_subset=harfbuzz_subset is not None)


def _remove_at_exit(folder: Path | None) -> None:
    """Delete WeasyPrint's temporary copy of our @font-face files when the process ends.

    Cached engines are never garbage-collected, and pool workers leave through
    os._exit, which skips atexit; multiprocessing's finalizers run in both cases.
    """
    if folder is not None:
        multiprocessing.util.Finalize(None, shutil.rmtree, args=(folder,),
                                      kwargs={"ignore_errors": True}, exitpriority=0)


def html_to_pdf(html: str, variant: str | None = None) -> bytes:
    """Render HTML (relative URLs resolve under vault/templates) with the bundled fonts;
    `variant` is WeasyPrint's pdf_variant, e.g. "pdf/a-3b"."""
    engine = _engine()
    from weasyprint import HTML

    # Without HarfBuzz-Subset, embedding Invoice Sans whole beats fontTools subsetting,
    # but only while it covers all the text: a character it lacks pulls in a system
    # fallback font, which must then be subset.
    whole = not engine.fast_subset and all(ord(c) in engine.charset for c in html if c >= " ")
    document = HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=local_fetcher())
    with warnings.catch_warnings():
        # For PDF/A, WeasyPrint 70 opens its bundled sRGB profile and never closes it; the
        # file is freed (and closed) during this call, so its ResourceWarning is dropped
        # here rather than failing every test that renders.
        warnings.filterwarnings("ignore", r"unclosed file .*sRGB2014\.icc", ResourceWarning)
        pdf: bytes = document.write_pdf(stylesheets=[engine.stylesheet], full_fonts=whole,
                                        font_config=engine.font_config, pdf_variant=variant)
    return pdf


class EInvoiceRejected(Exception):
    """The invoice's e-invoice could not be made: `reason` says why, and `pdf` is the
    invoice's PDF without it, to be issued all the same (see issue_invoice_pdf)."""

    def __init__(self, reason: str, pdf: bytes) -> None:
        super().__init__(reason, pdf)  # both in args: the exception pickles out of a worker
        self.reason = reason
        self.pdf = pdf

    def __str__(self) -> str:
        return self.reason


def render_invoice(snapshot: InvoiceSnapshot) -> bytes:
    """The PDF for one invoice. Blocking and CPU-bound: runs in a PdfRenderer worker.

    With e-invoicing on, a PDF/A-3b with the Factur-X XML embedded; a void invoice, or
    e-invoicing off, gives the plain PDF. Raises EInvoiceRejected (carrying the plain
    PDF/A) when the XML cannot be made valid.
    """
    html = credit_note_html(snapshot) if snapshot.credit_note else invoice_html(snapshot)
    if not snapshot.e_invoicing or snapshot.status == InvoiceStatus.VOID:
        return html_to_pdf(html)
    pdf = html_to_pdf(html, variant="pdf/a-3b")
    try:
        return einvoice.embed(pdf, einvoice.cii_xml(snapshot), snapshot)
    except Exception as exc:  # XSD, totals, or the library: the invoice itself must survive
        what = "credit note" if snapshot.credit_note else "invoice"
        raise EInvoiceRejected(f"{what} {snapshot.number}: {exc}", pdf) from None


def _warm_worker() -> None:
    """Pool initializer: pay imports, font set-up and a first layout before any request."""
    exit_with_parent()
    day = date(2000, 1, 1)
    line = LineSnapshot("Warm-up", Decimal(1), Decimal(1), Decimal(0), Decimal(1))
    warm_up = InvoiceSnapshot(Party("Warm-up"), Party("Warm-up"), "", "WARM-UP", "", "", day,
                              day, "EUR", "en", "", "open", (line,), Decimal(1), Decimal(0),
                              Decimal(1), e_invoicing=True)
    with contextlib.suppress(EInvoiceRejected):  # an initializer that raises breaks the pool
        render_invoice(warm_up)


def _ready() -> int:
    return os.getpid()


# ---- in the service process -------------------------------------------------------------

class Renderer(Protocol):
    """What issuing needs from a renderer (tests may render in-process)."""

    async def render(self, snapshot: InvoiceSnapshot) -> bytes: ...


class PdfRenderer:
    """Renders invoice snapshots in a pool of worker processes, off the event loop."""

    def __init__(self, max_workers: int | None = None, start_method: str = "spawn") -> None:
        # spawn, not fork: forking a process that runs an event loop and threads copies
        # their locks in whatever state they are in.
        self.max_workers = max_workers or os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(
            self.max_workers,
            mp_context=multiprocessing.get_context(start_method),
            initializer=_warm_worker,
        )

    async def warm_up(self) -> None:
        """Start every worker now so the first request does not wait for imports."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._pool, _ready) for _ in range(self.max_workers))
        )

    async def render(self, snapshot: InvoiceSnapshot) -> bytes:
        """The invoice's PDF bytes, rendered in a worker.

        Raises BrokenProcessPool if workers cannot start (e.g. Pango is missing), and
        EInvoiceRejected (with the plain PDF) when the e-invoice cannot be made.
        """
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        pdf = await loop.run_in_executor(self._pool, render_invoice, snapshot)
        metrics.pdf_rendered("invoice", time.perf_counter() - started)
        return pdf

    async def render_html(self, html: str) -> bytes:
        """Any other template's HTML (a statement) as a PDF, in a worker, same fonts."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        pdf = await loop.run_in_executor(self._pool, html_to_pdf, html)
        metrics.pdf_rendered("statement", time.perf_counter() - started)
        return pdf

    def close(self) -> None:
        """Stop the workers; renders not yet started are cancelled."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    async def __aenter__(self) -> PdfRenderer:
        await self.warm_up()
        return self

    def abort(self) -> None:
        """Stop at once, renders in flight included: the process is being stopped (SIGTERM,
        Ctrl-C) and what was not rendered is rendered later by the missing-PDF sweep."""
        # ProcessPoolExecutor has no public way to end busy workers before Python 3.14
        # (terminate_workers); its process table is the documented-in-source way to reach them.
        for process in list(getattr(self._pool, "_processes", {}).values()):
            process.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def __aexit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None and not issubclass(kind, Exception):  # cancelled or interrupted
            self.abort()
            return
        await asyncio.to_thread(self.close)
