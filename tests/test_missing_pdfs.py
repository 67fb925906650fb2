"""The missing-PDF sweep: an import killed between its commit and its renders leaves
invoices without a document, and a re-import sees them unchanged. The service renders
them in the background at start and on its schedule, and their links then download."""

from __future__ import annotations

from bot.service import Service
from tests.fakes import SmtpSink
from tests.harness import DATA, PUBLIC_URL, Running, fixed_clock, request_mail, until
from tests.s3 import VaultPlace
from vault import events
from vault.ingest.csv import import_csv
from vault.models import Invoice
from vault.pdf import PdfRenderer


async def import_without_pdfs() -> None:
    """What a killed `invoicebot import` leaves: the rows committed, no PDF rendered."""
    with events.silenced():
        for kind in ("accounts", "contacts", "invoices"):
            await import_csv(kind, DATA / f"{kind}.csv", on_issued=None, progress=False,
                             clock=fixed_clock())


async def no_invoice_without_pdf() -> bool:
    return not await Invoice.filter(document_id=None).exists()


async def test_invoices_left_without_pdfs_are_rendered_at_start_and_download(
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str,  # type: ignore[no-untyped-def]
    storage: VaultPlace,
) -> None:
    config = make_config(INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}",
                         INVOICEBOT_HTTP_PUBLIC_URL=PUBLIC_URL,
                         INVOICEBOT_EMAIL_TRUSTED_RELAYS="127.0.0.1/32", **storage.env)
    await import_without_pdfs()
    missing = await Invoice.filter(document_id=None).count()
    assert missing == await Invoice.all().count() > 0
    service = Service(config, clock=fixed_clock(), pdf_renderer=renderer)
    await service.start()
    try:
        await until(no_invoice_without_pdf, timeout=60)
        running = Running(service=service, sink=sink, config=config)
        await running.send(request_mail("ap@acme.example", "invoice INV-2026-0301"))
        assert "INV-2026-0301" in await running.pdf_text_of_first_reply()

        # A render that failed later (its document link lost): the scheduled sweep mends
        # exactly that one.
        await Invoice.filter(number="INV-2026-0302").update(document_id=None)
        assert await service.sweep_missing_pdfs() == 1
        assert await no_invoice_without_pdf()
        assert await service.sweep_missing_pdfs() == 0
    finally:
        await service.stop()
