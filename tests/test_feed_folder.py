"""The feed folder ([ingest] watch) while the real service runs: files dropped there are
imported all or nothing, moved to processed/ or failed/, never read half-written, never
imported twice; what they hold answers over real SMTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.service import Service
from tests.fakes import SmtpSink
from tests.harness import DATA, PUBLIC_URL, Running, fixed_clock, request_mail, until
from tests.harness import DOWNLOAD_LINK as LINK
from vault.ingest.feed import kind_of
from vault.models import AuditEvent, CreditNote, Invoice, OutboxMessage, Payment
from vault.pdf import PdfRenderer

SETTLE = 1.0  # seconds a file must stay put; the service looks every 50 ms
INVOICE_HEADER = DATA.joinpath("invoices.csv").read_text().splitlines()[0]


@pytest.fixture
async def feed(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str, tmp_path: Path
) -> AsyncIterator[Running]:
    config = make_config(
        INVOICEBOT_EMAIL_OUTBOUND=f"smtp://127.0.0.1:{sink.port}",
        INVOICEBOT_HTTP_PUBLIC_URL=PUBLIC_URL,
        INVOICEBOT_INGEST_WATCH=str(tmp_path / "feed"),
    )
    # Workers started first: a cold pool's start on a busy machine can outlast the waits.
    await renderer.warm_up()
    service = Service(config, clock=fixed_clock(), pdf_renderer=renderer,
                      feed_poll=timedelta(seconds=0.05), feed_settle=timedelta(seconds=SETTLE))
    await service.start()
    yield Running(service=service, sink=sink, config=config)
    await service.stop()


def folder(running: Running) -> Path:
    assert running.config.ingest_watch is not None
    return running.config.ingest_watch


async def handled(running: Running, *names: str) -> None:
    """Wait until the service has taken these files out of the folder."""
    async def gone() -> bool:
        return not any((folder(running) / name).exists() for name in names)

    # A deadline, not a pause: an import renders its PDFs before it moves the file, and 40
    # of them on a busy two-core machine take longer than 20 s.
    await until(gone, timeout=60)


def processed(running: Running, stem: str) -> list[str]:
    return sorted(p.name for p in (folder(running) / "processed").glob(f"{stem}.*"))


async def drop_accounts_and_contacts(running: Running) -> None:
    for kind in ("accounts", "contacts"):
        (folder(running) / f"{kind}.csv").write_bytes((DATA / f"{kind}.csv").read_bytes())
    await handled(running, "accounts.csv", "contacts.csv")


async def test_dropped_files_are_imported_in_kind_order_and_answer_by_email(
    feed: Running,
) -> None:
    # Dropped together; invoices need their accounts, payments their invoices.
    for kind, name in (("payments", "payments-nov.csv"), ("invoices", "invoices-2026.csv"),
                       ("contacts", "contacts.csv"), ("accounts", "accounts.csv")):
        (folder(feed) / name).write_bytes((DATA / f"{kind}.csv").read_bytes())
    await handled(feed, "payments-nov.csv", "invoices-2026.csv", "contacts.csv", "accounts.csv")

    assert [p.name for p in (folder(feed) / "failed").iterdir()] == []
    assert processed(feed, "invoices-2026")[0].startswith("invoices-2026.")
    assert await Invoice.all().count() == 4 and await Payment.all().count() == 1

    await feed.send(request_mail("ap@acme.example", "invoice INV-2026-0301"))
    await feed.sink.wait_for(1)
    reply = feed.sink.messages[-1].message
    body = reply.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "INV-2026-0301" in body
    (url,) = LINK.findall(body)
    response = await feed.download(url)  # the PDF was rendered when the feed issued it
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    # A history loaded through the feed alerts nobody: the reply is the only mail.
    assert len(feed.sink.messages) == 1
    assert await OutboxMessage.filter(kind="alert").count() == 0


async def test_a_file_with_a_bad_row_lands_in_failed_with_a_report_and_writes_nothing(
    feed: Running,
) -> None:
    await drop_accounts_and_contacts(feed)
    lines = [INVOICE_HEADER,
             "ACME,INV-9001,2026-11-02,2026-12-02,EUR,Freight,1,100.00,19,,,",
             "ACME,INV-9002,2026-11-02,2026-02-30,EUR,Freight,1,100.00,19,,,",
             "NOBODY,INV-9003,2026-11-02,2026-12-02,EUR,Freight,1,100.00,19,,,"]
    (folder(feed) / "invoices-bad.csv").write_text("\n".join(lines) + "\n")
    (folder(feed) / "ledger.csv").write_text(INVOICE_HEADER + "\n")
    await handled(feed, "invoices-bad.csv", "ledger.csv")

    failed = folder(feed) / "failed"
    assert sorted(p.name for p in failed.iterdir()) == [
        "invoices-bad.csv", "invoices-bad.csv.report.txt", "ledger.csv", "ledger.csv.report.txt"]
    report = (failed / "invoices-bad.csv.report.txt").read_text()
    assert report.startswith("invoices-bad.csv was not imported; nothing from it was written.")
    assert re.search(r"^invoices-bad\.csv line 3: .*due_date.*2026-02-30", report, re.M), report
    assert re.search(r"^invoices-bad\.csv line 4: .*NOBODY", report, re.M), report
    assert "line 2" not in report
    assert ("cannot tell what the file holds from its name; name it accounts*.csv, "
            "contacts*.csv, invoices*.csv, credit-notes*.csv or payments*.csv") in (
        failed / "ledger.csv.report.txt").read_text()
    assert await Invoice.all().count() == 0  # the good row was not written either
    assert processed(feed, "invoices-bad") == []
    assert await AuditEvent.filter(action="vault.feed.failed").count() == 2


async def test_a_file_written_slowly_is_not_read_before_it_is_complete(feed: Running) -> None:
    await drop_accounts_and_contacts(feed)
    rows = [f"ACME,INV-7{n:03},2026-11-02,2026-12-02,EUR,Freight,1,{n}.00,19,,,"
            for n in range(1, 41)]
    text = "\n".join([INVOICE_HEADER, *rows]) + "\n"
    half = len(text) // 2  # mid-row: read now, the file would fail or lose rows
    path = folder(feed) / "invoices-slow.csv"
    with path.open("w") as handle:
        handle.write(text[:half])
        handle.flush()
        looks = feed.service.feed.looks
        await until(_looked(feed, looks + 3))  # the service saw the half file, more than once
        assert path.exists() and await Invoice.all().count() == 0
        handle.write(text[half:])
    await handled(feed, "invoices-slow.csv")

    assert len(processed(feed, "invoices-slow")) == 1
    assert await Invoice.all().count() == 40
    assert list((folder(feed) / "failed").iterdir()) == []


async def test_a_part_file_and_a_dotfile_are_left_alone(feed: Running) -> None:
    await drop_accounts_and_contacts(feed)
    (folder(feed) / "invoices-next.csv.part").write_text(INVOICE_HEADER + "\n")
    (folder(feed) / ".invoices-tmp.csv").write_text(INVOICE_HEADER + "\n")
    looks = feed.service.feed.looks
    await until(_looked(feed, looks + int(SETTLE / 0.05) + 5), timeout=20)  # past settling
    assert sorted(p.name for p in folder(feed).iterdir() if p.is_file()) == [
        ".invoices-tmp.csv", "invoices-next.csv.part"]


async def test_a_file_dropped_again_is_imported_again_only_if_its_content_changed(
    feed: Running,
) -> None:
    await drop_accounts_and_contacts(feed)
    first = "\n".join([INVOICE_HEADER,
                       "ACME,INV-8001,2026-11-02,2026-12-02,EUR,Freight,1,100.00,19,,,"]) + "\n"
    path = folder(feed) / "invoices-daily.csv"
    path.write_text(first)
    await handled(feed, path.name)
    path.write_text(first)
    await handled(feed, path.name)

    imports = AuditEvent.filter(action="vault.import.completed")
    assert len([e for e in await imports if e.data["file"] == path.name]) == 1
    assert len(processed(feed, "invoices-daily")) == 1

    path.write_text(first + "ACME,INV-8002,2026-11-03,2026-12-03,EUR,Freight,1,50.00,19,,,\n")
    await handled(feed, path.name)
    assert len([e for e in await imports if e.data["file"] == path.name]) == 2
    assert len(processed(feed, "invoices-daily")) == 2
    assert sorted(await Invoice.all().values_list("number", flat=True)) == [
        "INV-8001", "INV-8002"]


CREDIT_NOTES = [
    "account_id,credit_note_number,invoice_number,issue_date,currency,amount,reason,"
    "description,quantity,unit_price,tax_rate",
    # 1 × 200.00 at 19 % = 238.00 off the March storage invoice (980.00 at 19 % = 1,166.20)
    "ACME,CN-501,INV-2026-0302,2026-03-20,EUR,,Short delivery,Storage March (part),1,200,19",
    # no line items: 50.00 credited to the account, on no invoice
    "ACME,CN-502,,2026-03-21,EUR,50.00,Goodwill,,,,",
]


async def test_a_credit_notes_file_credits_its_invoice_and_the_answer_shows_it(
    feed: Running,
) -> None:
    await drop_accounts_and_contacts(feed)
    (folder(feed) / "invoices.csv").write_bytes((DATA / "invoices.csv").read_bytes())
    await handled(feed, "invoices.csv")
    (folder(feed) / "credit-notes-nov.csv").write_text("\n".join(CREDIT_NOTES) + "\n")
    await handled(feed, "credit-notes-nov.csv")

    assert processed(feed, "credit-notes-nov")[0].startswith("credit-notes-nov.")
    notes = {n.number: n for n in await CreditNote.all()}
    assert {k: (str(n.amount), n.invoice_id is not None) for k, n in notes.items()} == {
        "CN-501": ("238.00", True), "CN-502": ("50.00", False)}
    assert all(n.document_id is not None for n in notes.values())  # PDFs rendered at import

    await feed.send(request_mail("ap@acme.example", "invoice INV-2026-0302"))
    await feed.sink.wait_for(1)
    body = feed.sink.messages[-1].message.get_body(  # type: ignore[union-attr]
        preferencelist=("plain",)).get_content()
    assert "CN-501" in body and "928,20" in body, body  # 1,166.20 − 238.00 still due
    urls = LINK.findall(body)
    assert len(urls) == 2  # the invoice and its credit note
    for url in urls:
        response = await feed.download(url)
        assert response.status_code == 200 and response.content.startswith(b"%PDF")


async def test_a_credit_note_beyond_what_its_invoice_has_left_fails_the_file(
    feed: Running,
) -> None:
    await drop_accounts_and_contacts(feed)
    (folder(feed) / "invoices.csv").write_bytes((DATA / "invoices.csv").read_bytes())
    await handled(feed, "invoices.csv")
    lines = [CREDIT_NOTES[0], CREDIT_NOTES[2],
             "ACME,CN-503,INV-2026-0302,2026-03-22,EUR,5000.00,Too much,,,,"]
    (folder(feed) / "credit-notes-bad.csv").write_text("\n".join(lines) + "\n")
    await handled(feed, "credit-notes-bad.csv")

    report = (folder(feed) / "failed" / "credit-notes-bad.csv.report.txt").read_text()
    assert re.search(r"^credit-notes-bad\.csv line 3: amount 5000\.00 is more than invoice "
                     r"'INV-2026-0302' has left to credit \(1166\.20\)", report, re.M), report
    assert await CreditNote.all().count() == 0  # the good row was not written either


def test_the_kind_comes_from_the_file_name() -> None:
    assert kind_of("Invoices-2026-11.CSV") == "invoices"
    assert kind_of("credit-notes-2026-11.csv") == "credit-notes"
    assert kind_of("payments.csv") == "payments"
    assert kind_of("contacts_de.csv") == "contacts"
    assert kind_of("accounts.txt") is None
    assert kind_of("export.csv") is None


def _looked(running: Running, count: int):  # type: ignore[no-untyped-def]
    async def probe() -> bool:
        return running.service.feed.looks >= count

    return probe
