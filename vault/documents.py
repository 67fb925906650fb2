"""The document store: immutable files addressed by the SHA-256 of their bytes.

A file lives at <root>/sha256/ab/cd/<hash>.pdf. It is written once, through a temporary
file that is fsynced and then hard-linked into place, so a reader never sees half a file
and an existing file is never overwritten. Each Document row also keeps the size and
CRC-32 so a ZIP of many documents can be streamed without reading them twice
(stream-zip's NO_COMPRESSION_64(size, crc)).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import tempfile
import zlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from vault.clock import Clock
from vault.config import SellerConfig
from vault.escalations import escalate
from vault.models import Document, Invoice
from vault.pdf import EInvoiceRejected, Renderer, snapshot
from vault.vocabulary import EscalationKind

log = logging.getLogger("invoicebot.documents")

EXTENSIONS = {"application/pdf": ".pdf", "application/zip": ".zip", "text/csv": ".csv",
              "application/xml": ".xml"}
_KEY = re.compile(r"^sha256/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]+$")


class CorruptDocumentError(RuntimeError):
    """A stored file does not have the size its content address promises."""


def storage_key(sha256: str, content_type: str) -> str:
    """Where bytes with this digest live, relative to the store's root."""
    extension = EXTENSIONS.get(content_type, ".bin")
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}{extension}"


class DocumentStore:
    """Content-addressed files under `root`, one Document row per distinct content."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    async def put(self, data: bytes, content_type: str = "application/pdf") -> Document:
        """Store bytes once; the same bytes always give back the same Document row."""
        digest = hashlib.sha256(data).hexdigest()
        key = storage_key(digest, content_type)
        await asyncio.to_thread(self._write_once, self.root / key, data)
        # The file is durable before the row exists, so a row never points at nothing.
        document, _ = await Document.get_or_create(
            sha256=digest,
            defaults={"size": len(data), "crc32": zlib.crc32(data), "storage_key": key,
                      "content_type": content_type},
        )
        return document

    def path(self, document: Document) -> Path:
        """The file of a stored document (its key is checked so it cannot leave root)."""
        if not _KEY.match(document.storage_key):
            raise ValueError(f"document {document.id}: bad storage key {document.storage_key!r}")
        return self.root / document.storage_key

    async def read_chunks(
        self, document: Document, chunk_size: int = 65536
    ) -> AsyncIterator[bytes]:
        """The document's bytes in chunks, read off the event loop."""
        handle = await asyncio.to_thread(self.path(document).open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    @staticmethod
    def _write_once(target: Path, data: bytes) -> None:
        if target.exists():
            if target.stat().st_size != len(data):
                raise CorruptDocumentError(f"{target} exists with a different size")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.chmod(temp_name, 0o400)  # immutable by convention, read-only on disk too
            # link, not replace: if another writer got there first, keep its file.
            with contextlib.suppress(FileExistsError):
                os.link(temp_name, target)
        finally:
            os.unlink(temp_name)
        # The new entries (file, and maybe sha256/ab/cd/ themselves) must be durable too.
        for directory in (target.parent, target.parent.parent, target.parent.parent.parent):
            _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def issue_invoice_pdf(
    invoice: Invoice, renderer: Renderer, store: DocumentStore, seller: SellerConfig,
    *, clock: Clock,
) -> Document:
    """Render a committed invoice once, store the PDF and point invoice.document at it.

    Call after the invoice and its lines are committed (the snapshot reads them), and
    never on a request path: rendering takes a worker for ~0.1 s. The clock dates an
    escalation, should there be one.

    When the e-invoice (Factur-X XML) cannot be made, the invoice is still issued, as
    the plain PDF: the invoice is the seller's claim to be paid and must not wait on
    machine-readable extras, while a buyer who books e-invoices would rather have it
    late than wrong. So the reason is logged and escalated to AR once per invoice
    (EscalationKind.E_INVOICE), who fix the data and reissue if the customer needs it.
    """
    try:
        pdf = await renderer.render(await snapshot(invoice, seller))
    except EInvoiceRejected as rejected:
        pdf = rejected.pdf
        await _e_invoice_failed(invoice, rejected.reason, clock.now())
    document = await store.put(pdf)
    invoice.document = document
    await invoice.save(update_fields=["document_id"])
    return document


async def _e_invoice_failed(invoice: Invoice, reason: str, now: datetime) -> None:
    log.warning("invoice %s issued without its e-invoice: %s", invoice.number, reason)
    await escalate(EscalationKind.E_INVOICE, f"e_invoice:{invoice.number}", at=now,
                   account_id=invoice.account_id, summary=reason)


async def any_invoice_without_pdf() -> bool:
    """One indexed query: whether render_missing_pdfs has anything to do."""
    return bool(await Invoice.filter(document_id=None).exists())


async def render_missing_pdfs(
    renderer: Renderer, store: DocumentStore, seller: SellerConfig, *, clock: Clock,
    batch: int = 8,
) -> int:
    """Issue the PDF of every invoice that has none; how many were rendered.

    An import commits its rows before rendering, so one killed in between (or a render
    that failed) leaves invoices without a document, and a re-import sees them unchanged.
    Walked by id, `batch` renders at a time: an invoice that fails is logged and left for
    the next sweep, never retried in a loop. Rendering one twice (an import renders it
    while this sweep does) is harmless: the store keeps one file per content.
    """
    rendered, after = 0, 0
    while invoices := await Invoice.filter(document_id=None, id__gt=after).order_by(
        "id"
    ).limit(batch):
        after = invoices[-1].id
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
        log.info("missing-PDF sweep: %d invoice PDFs rendered", rendered)
    return rendered
