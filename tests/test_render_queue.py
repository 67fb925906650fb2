"""History does not wait for its PDFs (vault.render_queue): an import of old invoices is
stored at once with their documents pending, the queue renders them newest first and each
once (also with two workers at a time), and a request for one the queue has not reached
renders it within the request."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.commands_cli import PdfIssuer
from bot.service import Service
from tests.account_page import account_link_by_mail, browser, open_session
from tests.alerting import Alerting, pdf_text
from tests.fakes import SmtpSink
from tests.harness import DATA, PUBLIC_URL, TODAY, Running, fixed_clock, request_mail
from tests.s3 import VaultPlace
from vault import events, render_queue
from vault.config import Config, SellerConfig
from vault.documents import DocumentStore
from vault.ingest.csv import import_csv
from vault.models import Invoice
from vault.pdf import InvoiceSnapshot, PdfRenderer

HEADER = ("account_id,invoice_number,issue_date,due_date,currency,description,quantity,"
          "unit_price,tax_rate\n")


class RecordingRenderer:
    """Records which invoices it was asked for; each gets a small PDF of its own."""

    def __init__(self) -> None:
        self.numbers: list[str] = []

    async def render(self, snapshot: InvoiceSnapshot) -> bytes:
        self.numbers.append(snapshot.number)
        await asyncio.sleep(0)  # let another worker interleave
        return b"%PDF-1.7\n% " + snapshot.number.encode() + b"\n%%EOF\n"


async def load_rows(*kinds: str) -> None:
    with events.silenced():
        for kind in kinds:
            await import_csv(kind, DATA / f"{kind}.csv", progress=False, clock=fixed_clock())


async def test_a_history_import_is_stored_at_once_with_its_pdfs_pending(  # type: ignore[no-untyped-def]
    make_config, orm: str, tmp_path: Path
) -> None:
    config: Config = make_config()
    await load_rows("accounts", "contacts")
    old = [TODAY - timedelta(days=d) for d in (400, 90, 8)]  # before the 7-day alert window
    rows = [f"ACME,HIST-{n},{day},{day + timedelta(days=30)},EUR,Freight,1,100.00,19\n"
            for n, day in enumerate(old)]
    rows.append(f"ACME,NEWS-1,{TODAY},{TODAY + timedelta(days=30)},EUR,Freight,1,100.00,19\n")
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    renderer, woken = RecordingRenderer(), []
    issuer = PdfIssuer(config, renderer, fixed_clock(), deferred=lambda: woken.append(1))

    with events.silenced():
        result = await import_csv("invoices", path, on_issued=issuer, progress=False,
                                  clock=fixed_clock())
    await issuer.close()

    assert result.created == 4
    assert renderer.numbers == ["NEWS-1"]  # only news waited for its PDF
    pending = [i.number for i in await Invoice.filter(document_id=None).order_by("number")]
    assert pending == ["HIST-0", "HIST-1", "HIST-2"]
    assert woken  # the render queue was told
    assert await render_queue.any_pending()


async def test_the_queue_renders_newest_first_and_each_invoice_once(
    orm: str, vault_place: VaultPlace
) -> None:
    await load_rows("accounts", "contacts", "invoices")
    store, seller = DocumentStore.open(vault_place.config), SellerConfig(
        "Northwind", "1 Harbour Road", "GB123456789", "", ZoneInfo("Europe/London"))
    newest_first = [n for n, _ in await Invoice.all().order_by("-issue_date", "-id")
                    .values_list("number", "issue_date")]
    assert len(newest_first) > 3

    one = RecordingRenderer()  # one at a time: within a batch renders run together
    rendered = await render_queue.render_pending(one, store, seller, clock=fixed_clock(),
                                                 batch=1)
    assert rendered == len(newest_first)
    assert one.numbers == newest_first
    assert not await render_queue.any_pending()
    assert await render_queue.render_pending(one, store, seller, clock=fixed_clock()) == 0

    # Two workers at once (two instances on PostgreSQL): every invoice once, none twice.
    await Invoice.all().update(document_id=None)
    first, second = RecordingRenderer(), RecordingRenderer()
    await asyncio.gather(
        render_queue.render_pending(first, store, seller, clock=fixed_clock(), batch=2),
        render_queue.render_pending(second, store, seller, clock=fixed_clock(), batch=2))
    counts = Counter(first.numbers + second.numbers)
    assert sorted(counts) == sorted(newest_first) and set(counts.values()) == {1}
    assert not await Invoice.filter(document_id=None).exists()
    await store.close()


async def test_a_request_for_a_pending_invoice_renders_its_pdf_within_the_request(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str
) -> None:
    config = make_config(INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}",
                         INVOICEBOT_HTTP_PUBLIC_URL=PUBLIC_URL,
                         INVOICEBOT_EMAIL_TRUSTED_RELAYS="127.0.0.1/32")
    await load_rows("accounts", "contacts", "invoices")
    # Another instance's render queue holds every pending invoice: this one's leaves them.
    await Invoice.all().update(render_claimed_until=datetime(2100, 1, 1, tzinfo=UTC))
    service = Service(config, clock=fixed_clock(), pdf_renderer=renderer)
    await service.start()
    try:
        assert await service.sweep_missing_pdfs() == 0  # all claimed elsewhere
        running = Running(service=service, sink=sink, config=config)
        await running.send(request_mail("ap@acme.example", "invoice INV-2026-0301"))
        assert "INV-2026-0301" in await running.pdf_text_of_first_reply()
        stored = await Invoice.get(number="INV-2026-0301")
        assert stored.document_id is not None and stored.render_claimed_until is None
        assert await Invoice.filter(document_id=None).count() == \
            await Invoice.all().count() - 1  # only the one asked for was rendered
    finally:
        await service.stop()


async def test_the_account_page_downloads_a_pending_invoice(alerting: Alerting) -> None:
    await alerting.invoices(("GLOBEX", "INV-G-OLD", -300, -270, "100.00"))
    # Pending as history is, and held by another instance's queue: the page renders it.
    await Invoice.filter(number="INV-G-OLD").update(
        document_id=None, render_claimed_until=datetime(2100, 1, 1, tzinfo=UTC))
    old = await Invoice.get(number="INV-G-OLD")
    link = await account_link_by_mail(alerting, "ap@globex.example")
    async with browser(alerting) as client:
        await open_session(client, link)
        detail = await client.get(f"/account/invoices/{old.id}")
        assert "Download PDF" in detail.text
        pdf = await client.get(f"/account/invoices/{old.id}/pdf")
    assert pdf.status_code == 200 and "INV-G-OLD" in pdf_text(pdf.content)
    assert (await Invoice.get(number="INV-G-OLD")).document_id is not None
