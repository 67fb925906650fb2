"""The content-addressed document store and issuing an invoice's PDF into it."""

from __future__ import annotations

import hashlib
import io
import os
import zlib
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest

from tests.s3 import VaultPlace
from vault.clock import SYSTEM
from vault.config import SellerConfig
from vault.documents import DocumentStore, issue_invoice_pdf
from vault.models import Account, Document, Invoice, InvoiceLine
from vault.pdf import InvoiceSnapshot, render_invoice
from vault.storage import FileStorage, StoredObjectMissing

SELLER = SellerConfig("Northwind Supply Co.", "1 Harbour Road, Bristol", "GB123456789",
                      "Net 30.", ZoneInfo("UTC"))
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 700  # ~180 KB: several read chunks


@pytest.fixture
async def store(storage: VaultPlace) -> AsyncIterator[DocumentStore]:
    """The store on each backend: a folder, and an S3 bucket (tests/s3.py)."""
    opened = DocumentStore.open(storage.config)
    yield opened
    await opened.close()


async def test_stored_file_matches_the_rows_digest_size_and_crc(
    orm: str, store: DocumentStore, storage: VaultPlace
) -> None:
    document = await store.put(PDF)

    stored = storage.raw(document.storage_key)
    assert stored == PDF
    assert document.sha256 == hashlib.sha256(stored).hexdigest()
    assert document.size == len(stored)
    assert document.crc32 == zlib.crc32(stored)
    assert document.storage_key == f"sha256/{document.sha256[:2]}/{document.sha256[2:4]}/" \
        f"{document.sha256}.pdf"
    assert document.content_type == "application/pdf"


async def test_same_bytes_are_stored_once(orm: str, store: DocumentStore) -> None:
    first = await store.put(PDF)

    second = await store.put(PDF)

    assert second.id == first.id
    assert await Document.all().count() == 1
    assert await store.read(second) == PDF


async def test_a_folder_keeps_one_read_only_file_never_rewritten(
    orm: str, tmp_path: Path
) -> None:
    files = FileStorage(tmp_path / "vault")
    store = DocumentStore(files)
    first = await store.put(PDF)
    path = files.path(first.storage_key)
    inode = path.stat().st_ino

    await store.put(PDF)

    assert path.stat().st_ino == inode  # the file was not rewritten
    assert not os.stat(path).st_mode & 0o222
    assert [p.name for p in files.root.rglob("*") if p.is_file()] == [f"{first.sha256}.pdf"]


async def test_different_bytes_get_different_documents(orm: str, store: DocumentStore) -> None:
    first = await store.put(PDF)
    second = await store.put(PDF + b"%%EOF\n")

    assert first.id != second.id
    assert await store.read(first) == PDF


async def test_read_chunks_streams_the_stored_bytes(orm: str, store: DocumentStore) -> None:
    document = await store.put(PDF)

    chunks = [chunk async for chunk in store.read_chunks(document, chunk_size=65536)]

    assert b"".join(chunks) == PDF
    assert all(len(c) <= 65536 for c in chunks) and len(chunks) >= 3


async def test_a_lost_document_is_missing_and_reading_it_says_so(
    orm: str, store: DocumentStore, storage: VaultPlace
) -> None:
    kept, lost = await store.put(PDF), await store.put(PDF + b"%%EOF\n")
    storage.remove(lost.storage_key)

    assert await store.missing([kept, lost]) == [lost]
    with pytest.raises(StoredObjectMissing):
        await store.read(lost)


async def test_a_storage_key_outside_the_store_is_refused(store: DocumentStore) -> None:
    rogue = Document(id=7, sha256="0" * 64, size=1, crc32=0, storage_key="../../etc/passwd")

    with pytest.raises(ValueError, match="bad storage key"):
        store.key(rogue)
    with pytest.raises(ValueError, match="bad storage key"):
        await store.read(rogue)


class InProcessRenderer:
    """Renders on the test's thread: the pool itself is covered in test_pdf.py."""

    def __init__(self) -> None:
        self.rendered: list[str] = []

    async def render(self, snapshot: InvoiceSnapshot) -> bytes:
        self.rendered.append(snapshot.number)
        return render_invoice(snapshot)


async def make_invoice() -> Invoice:
    account = await Account.create(account_id="ACME-01", name="Acme GmbH", locale="de")
    invoice = await Invoice.create(
        account=account, number="INV-7", issue_date=date(2025, 5, 2),
        due_date=date(2025, 6, 1), currency="EUR", subtotal=Decimal("100.00"),
        tax_total=Decimal("19.00"), total=Decimal("119.00"), content_hash="h" * 64,
    )
    await InvoiceLine.create(invoice=invoice, position=1, description="Consulting",
                             quantity=Decimal(1), unit_price=Decimal(100), tax_rate=Decimal(19),
                             amount=Decimal("100.00"))
    return invoice


async def test_issuing_stores_the_pdf_and_links_the_invoice(
    orm: str, store: DocumentStore
) -> None:
    invoice = await make_invoice()

    document = await issue_invoice_pdf(invoice, InProcessRenderer(), store, SELLER, clock=SYSTEM)

    reloaded = await Invoice.get(id=invoice.id)
    assert reloaded.document_id == document.id
    text = pypdf.PdfReader(io.BytesIO(await store.read(document))).pages[0].extract_text()
    assert "INV-7" in text and "Consulting" in text


async def test_issuing_writes_only_the_document_field(orm: str, store: DocumentStore) -> None:
    invoice = await make_invoice()
    # A payment lands between loading the invoice and issuing its PDF.
    await Invoice.filter(id=invoice.id).update(amount_paid=Decimal("119.00"))

    await issue_invoice_pdf(invoice, InProcessRenderer(), store, SELLER, clock=SYSTEM)

    reloaded = await Invoice.get(id=invoice.id)
    assert reloaded.amount_paid == Decimal("119.00")
    assert reloaded.document_id is not None


async def test_issuing_the_same_invoice_twice_reuses_the_document(
    orm: str, store: DocumentStore
) -> None:
    invoice = await make_invoice()
    renderer = InProcessRenderer()

    first = await issue_invoice_pdf(invoice, renderer, store, SELLER, clock=SYSTEM)
    second = await issue_invoice_pdf(invoice, renderer, store, SELLER, clock=SYSTEM)

    assert renderer.rendered == ["INV-7", "INV-7"]
    assert second.id == first.id
