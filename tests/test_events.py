"""Invoice events: written by every path that changes invoices, in the same transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from notifier import alerts
from tests.harness import DATA
from vault import events
from vault.clock import SYSTEM, FixedClock
from vault.config import Config
from vault.ingest.csv import ImportFailed, import_csv
from vault.invoices import sweep_overdue
from vault.links import LinkSigner
from vault.models import Invoice, InvoiceEvent, InvoiceStatus, Notification
from vault.vocabulary import EventKind

TODAY = date(2026, 4, 1)  # the e2e invoices are due in April 2026
CLOCK = FixedClock.on(TODAY)  # never moved
HEADER = ("account_id,invoice_number,issue_date,due_date,currency,description,quantity,"
          "unit_price,status\n")


@pytest.fixture
async def accounts(orm: str) -> None:
    for kind in ("accounts", "contacts"):
        await import_csv(kind, DATA / f"{kind}.csv", progress=False, clock=SYSTEM)


def invoices_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / f"invoices-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows))
    return path


async def kinds() -> list[tuple[str, str, str, str]]:
    rows = await InvoiceEvent.all().order_by("id").prefetch_related("invoice")
    return [(e.invoice.number, e.kind, e.old_status, e.new_status) for e in rows]


async def test_an_import_records_one_issued_event_per_new_invoice_and_none_when_unchanged(
    accounts: None,
) -> None:
    await import_csv("invoices", DATA / "invoices.csv", progress=False, clock=CLOCK)
    await import_csv("invoices", DATA / "invoices.csv", progress=False, clock=CLOCK)
    issued = await InvoiceEvent.filter(kind=EventKind.ISSUED).prefetch_related("invoice")
    assert sorted(e.invoice.number for e in issued) == [
        "INV-2026-0210", "INV-2026-0301", "INV-2026-0302", "INV-2026-0305"]
    assert {e.cause for e in issued} == {"import"}
    assert await InvoiceEvent.all().count() == 4


async def test_a_failed_import_records_no_event(accounts: None, tmp_path: Path) -> None:
    bad = invoices_file(tmp_path, "ACME,X-1,2026-03-01,2026-03-31,EUR,Freight,1,10,",
                        "ACME,X-2,2026-03-01,not-a-date,EUR,Freight,1,10,")
    with pytest.raises(ImportFailed):
        await import_csv("invoices", bad, progress=False, clock=CLOCK)
    assert not await InvoiceEvent.exists()


async def test_void_disputed_and_reopened_from_a_reimport_are_status_changes(
    accounts: None, tmp_path: Path
) -> None:
    row = "GLOBEX,G-1,2026-03-20,2026-04-19,USD,Retainer,1,100,{}"
    for status in ("", "void", "", "disputed"):
        await import_csv("invoices", invoices_file(tmp_path, row.format(status)),
                         progress=False, clock=CLOCK)
    assert await kinds() == [
        ("G-1", "invoice.issued", None, "open"),
        ("G-1", "invoice.status_changed", "open", "void"),
        ("G-1", "invoice.status_changed", "void", "open"),
        ("G-1", "invoice.status_changed", "open", "disputed"),
    ]


async def test_payments_record_the_payment_and_the_status_it_moved(
    accounts: None, tmp_path: Path
) -> None:
    await import_csv("invoices", invoices_file(
        tmp_path, "GLOBEX,G-2,2026-03-20,2026-04-19,USD,Retainer,1,100,"),
        progress=False, clock=CLOCK)
    header = "account_id,invoice_number,amount,paid_on,reference\n"
    first = tmp_path / "p1.csv"
    first.write_text(header + "GLOBEX,G-2,40.00,2026-03-25,W-1\n")
    both = tmp_path / "p2.csv"
    both.write_text(header + "GLOBEX,G-2,40.00,2026-03-25,W-1\nGLOBEX,G-2,60.00,2026-03-28,W-2\n")
    for path in (first, both, both):
        await import_csv("payments", path, progress=False, clock=CLOCK)

    assert await kinds() == [
        ("G-2", "invoice.issued", None, "open"),
        ("G-2", "payment.received", None, None),
        ("G-2", "invoice.status_changed", "open", "partially_paid"),
        ("G-2", "payment.received", None, None),
        ("G-2", "invoice.status_changed", "partially_paid", "paid"),
    ]
    amounts = await InvoiceEvent.filter(kind=EventKind.PAYMENT_RECEIVED).values_list("amount",
                                                                                 flat=True)
    assert sorted(Decimal(a) for a in amounts) == [Decimal("40.00"), Decimal("60.00")]


async def test_the_sweep_flips_each_invoice_once_with_one_event(accounts: None) -> None:
    await import_csv("invoices", DATA / "invoices.csv", progress=False, clock=CLOCK)
    later = date(2026, 4, 10)
    assert await sweep_overdue(later, CLOCK.now()) == 2  # 0301 (due 04-03) and 0305 (due 04-04)
    assert await sweep_overdue(later, CLOCK.now()) == 0
    overdue = await InvoiceEvent.filter(kind=EventKind.STATUS_CHANGED).prefetch_related("invoice")
    assert sorted((e.invoice.number, e.old_status, e.cause) for e in overdue) == [
        ("INV-2026-0301", "open", "sweep"), ("INV-2026-0305", "open", "sweep")]


async def test_a_status_change_outside_the_import_is_recorded_only_if_committed(
    accounts: None,
) -> None:
    await import_csv("invoices", DATA / "invoices.csv", progress=False, clock=CLOCK)
    invoice = await Invoice.get(number="INV-2026-0302")
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await Invoice.filter(id=invoice.id).update(status=InvoiceStatus.DISPUTED)
            await events.status_changed(invoice, "open", "disputed", CLOCK.now(), cause="dispute")
            raise RuntimeError("the dispute could not be saved")
    assert not await InvoiceEvent.filter(cause="dispute").exists()

    async with in_transaction():
        await Invoice.filter(id=invoice.id).update(status=InvoiceStatus.DISPUTED)
        await events.status_changed(invoice, "open", "disputed", CLOCK.now(), cause="dispute")
    event = await InvoiceEvent.get(cause="dispute")
    assert (event.old_status, event.new_status, event.account_id) == (
        "open", "disputed", invoice.account_id)


async def test_due_soon_is_recorded_once_per_invoice_and_due_date(
    accounts: None, tmp_path: Path
) -> None:
    row = "GLOBEX,G-3,2026-03-20,{},USD,Retainer,1,100,"
    await import_csv("invoices", invoices_file(tmp_path, row.format("2026-04-03")),
                     progress=False, clock=CLOCK)
    assert await events.record_due_soon(TODAY, 3, CLOCK.now()) == 1
    assert await events.record_due_soon(TODAY + timedelta(days=1), 3, CLOCK.now()) == 1
    assert await InvoiceEvent.filter(kind=EventKind.DUE_SOON).count() == 1
    await import_csv("invoices", invoices_file(tmp_path, row.format("2026-04-04")),
                     progress=False, clock=CLOCK)  # the due date moved: a new reminder
    await events.record_due_soon(TODAY + timedelta(days=1), 3, CLOCK.now())
    keys = await InvoiceEvent.filter(kind=EventKind.DUE_SOON).values_list("key", flat=True)
    assert sorted(str(k).rpartition(":")[2] for k in keys) == ["2026-04-03", "2026-04-04"]
    assert await events.record_due_soon(TODAY, 1, CLOCK.now()) == 0  # outside the window


async def test_a_silenced_import_alerts_nobody(accounts: None, config: Config) -> None:
    with events.silenced():
        await import_csv("invoices", DATA / "invoices.csv", progress=False, clock=CLOCK)
    assert await InvoiceEvent.filter(expanded=True).count() == 4
    ctx = alerts.AlertContext(config, LinkSigner(config.secret_keys))
    assert await alerts.expand(ctx, datetime(2026, 4, 1, tzinfo=UTC)) == 0
    assert not await Notification.exists()
