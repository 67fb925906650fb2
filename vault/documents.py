"""The document store: immutable documents addressed by the SHA-256 of their bytes.

A document lives under the key sha256/ab/cd/<hash>.pdf in the vault's storage (a folder or
an S3 bucket, vault.storage). It is stored before its Document row exists, so a row never
points at nothing, and never rewritten. Each row also keeps the size and CRC-32 so a ZIP of
many documents can be streamed without reading them twice (stream-zip's
NO_COMPRESSION_64(size, crc)). Every reader goes through this class: in chunks, never a
whole file at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import zlib
from collections.abc import AsyncGenerator, Sequence
from datetime import datetime

from vault.clock import Clock
from vault.config import SellerConfig
from vault.config_vault import VaultConfig
from vault.escalations import escalate
from vault.models import Document, Invoice
from vault.pdf import EInvoiceRejected, Renderer, snapshot
from vault.storage import CHUNK, Storage, open_storage
from vault.vocabulary import EscalationKind

log = logging.getLogger("invoicebot.documents")

EXTENSIONS = {"application/pdf": ".pdf", "application/zip": ".zip", "text/csv": ".csv",
              "application/xml": ".xml"}
_KEY = re.compile(r"^sha256/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]+$")
_AT_ONCE = 16  # existence checks in flight for one ZIP (each is a HEAD on S3)


def storage_key(sha256: str, content_type: str) -> str:
    """Where bytes with this digest live, relative to the storage's root."""
    extension = EXTENSIONS.get(content_type, ".bin")
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}{extension}"


class DocumentStore:
    """Content-addressed documents in a Storage, one Document row per distinct content."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @classmethod
    def open(cls, config: VaultConfig) -> DocumentStore:
        """The store [vault] names; `close()` it when done (an S3 store holds connections)."""
        return cls(open_storage(config))

    async def put(self, data: bytes, content_type: str = "application/pdf") -> Document:
        """Store bytes once; the same bytes always give back the same Document row."""
        digest = hashlib.sha256(data).hexdigest()
        key = storage_key(digest, content_type)
        await self.storage.put(key, data, content_type)
        # The bytes are durable before the row exists, so a row never points at nothing.
        document, _ = await Document.get_or_create(
            sha256=digest,
            defaults={"size": len(data), "crc32": zlib.crc32(data), "storage_key": key,
                      "content_type": content_type},
        )
        return document

    def key(self, document: Document) -> str:
        """The document's storage key, checked so it cannot leave the store's root."""
        if not _KEY.match(document.storage_key):
            raise ValueError(f"document {document.id}: bad storage key {document.storage_key!r}")
        return document.storage_key

    def read_chunks(self, document: Document, chunk_size: int = CHUNK
                    ) -> AsyncGenerator[bytes, None]:
        """The document's bytes in chunks (StoredObjectMissing when the storage lost it)."""
        return self.storage.chunks(self.key(document), chunk_size)

    async def read(self, document: Document) -> bytes:
        """All of a document at once: for a caller that needs it whole (a PDF to parse, a
        test); responses stream read_chunks instead."""
        return b"".join([chunk async for chunk in self.read_chunks(document)])

    async def missing(self, documents: Sequence[Document]) -> list[Document]:
        """Those of the documents the storage does not have (checked a few at a time)."""
        limit = asyncio.Semaphore(_AT_ONCE)

        async def absent(document: Document) -> bool:
            async with limit:
                return await self.storage.size(self.key(document)) is None

        found = await asyncio.gather(*(absent(d) for d in documents))
        return [d for d, gone in zip(documents, found, strict=True) if gone]

    async def presigned_url(self, document: Document, disposition: str) -> str | None:
        """A short-lived URL of the document in an object store with [vault] s3_presign;
        None where documents are streamed by us."""
        return await self.storage.presigned_url(self.key(document), disposition,
                                                document.content_type)

    async def close(self) -> None:
        await self.storage.close()


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
    invoice.render_claimed_until = None  # rendered: out of the render queue
    await invoice.save(update_fields=["document_id", "render_claimed_until"])
    return document


async def _e_invoice_failed(invoice: Invoice, reason: str, now: datetime) -> None:
    log.warning("invoice %s issued without its e-invoice: %s", invoice.number, reason)
    await escalate(EscalationKind.E_INVOICE, f"e_invoice:{invoice.number}", at=now,
                   account_id=invoice.account_id, summary=reason)
