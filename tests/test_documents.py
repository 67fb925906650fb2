"""The content-addressed document store and issuing an invoice's PDF into it."""

from __future__ import annotations

import hashlib
import os
import zlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest

from vault.clock import SYSTEM
from vault.config import SellerConfig
from vault.documents import DocumentStore, issue_invoice_pdf
from vault.models import Account, Document, Invoice, InvoiceLine
from vault.pdf import InvoiceSnapshot, render_invoice

SELLER = SellerConfig("Northwind Supply Co.", "1 Harbour Road, Bristol", "GB123456789",
                      "Net 30.", ZoneInfo("UTC"))
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 700  # ~180 KB: several read chunks


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    return DocumentStore(tmp_path / "vault")


async def test_stored_file_matches_the_rows_digest_size_and_crc(
    orm: str, store: DocumentStore
) -> None:
    document = await store.put(PDF)

    stored = store.path(document).read_bytes()
    assert stored == PDF
    assert document.sha256 == hashlib.sha256(stored).hexdigest()
    assert document.size == len(stored)
    assert document.crc32 == zlib.crc32(stored)
    assert document.storage_key == f"sha256/{document.sha256[:2]}/{document.sha256[2:4]}/" \
        f"{document.sha256}.pdf"
    assert document.content_type == "application/pdf"


async def test_same_bytes_are_stored_once(orm: str, store: DocumentStore) -> None:
    first = await store.put(PDF)
    inode = store.path(first).stat().st_ino

    second = await store.put(PDF)

    assert second.id == first.id
    assert await Document.all().count() == 1
    assert store.path(second).stat().st_ino == inode  # the file was not rewritten
    assert [p.name for p in store.root.rglob("*") if p.is_file()] == [f"{first.sha256}.pdf"]


async def test_different_bytes_get_different_documents(orm: str, store: DocumentStore) -> None:
    first = await store.put(PDF)
    second = await store.put(PDF + b"%%EOF\n")

    assert first.id != second.id
    assert store.path(first).read_bytes() == PDF


async def test_stored_files_are_read_only(orm: str, store: DocumentStore) -> None:
    document = await store.put(PDF)

    assert not os.stat(store.path(document)).st_mode & 0o222


async def test_read_chunks_streams_the_stored_bytes(orm: str, store: DocumentStore) -> None:
    document = await store.put(PDF)

    chunks = [chunk async for chunk in store.read_chunks(document, chunk_size=65536)]

    assert b"".join(chunks) == PDF
    assert [len(c) for c in chunks[:-1]] == [65536] * (len(chunks) - 1)


async def test_path_refuses_a_storage_key_outside_the_store(store: DocumentStore) -> None:
    rogue = Document(id=7, sha256="0" * 64, size=1, crc32=0, storage_key="../../etc/passwd")

    with pytest.raises(ValueError, match="bad storage key"):
        store.path(rogue)


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
    text = pypdf.PdfReader(store.path(document)).pages[0].extract_text()
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
