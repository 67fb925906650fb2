"""`invoicebot ask --today DATE` answers as of DATE: what a contact saw that day.

A small world around DATE = 2026-03-15, loaded through the real import and asked through
the real command line (a separate process, as operators run it):

    INV-2026-0101  issued 2026-01-10, due 2026-02-09, 1,000.00  paid in full 2026-03-20 (later)
    INV-2026-0102  issued 2026-02-01, due 2026-04-01,   500.00  100.00 paid 2026-03-01
    INV-2026-0103  issued 2026-03-25 (later),           700.00  unpaid

As of DATE, INV-2026-0103 does not exist, the payment of 2026-03-20 has not been made, so
INV-2026-0101 is overdue with its full amount still due, and INV-2026-0102 is partially paid.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pypdf
import pytest

from tests.harness import TODAY
from tests.test_cli import Cli, make_cli
from vault import events
from vault.clock import FixedClock
from vault.config import load_config
from vault.documents import DocumentStore
from vault.ingest.csv import import_csv
from vault.models import Document, Statement

DATE = "2026-03-15"
INVOICES = [
    ["account_id", "invoice_number", "issue_date", "due_date", "currency", "description",
     "quantity", "unit_price", "tax_rate", "entity", "po_number", "status"],
    ["ASOF", "INV-2026-0101", "2026-01-10", "2026-02-09", "EUR", "Freight", "1", "1000.00", "0",
     "", "", ""],
    ["ASOF", "INV-2026-0102", "2026-02-01", "2026-04-01", "EUR", "Handling", "1", "500.00", "0",
     "", "", ""],
    ["ASOF", "INV-2026-0103", "2026-03-25", "2026-04-24", "EUR", "Storage", "1", "700.00", "0",
     "", "", ""],
]
PAYMENTS = [
    ["account_id", "invoice_number", "amount", "paid_on", "reference", "method"],
    ["ASOF", "INV-2026-0102", "100.00", "2026-03-01", "BANK-EARLY", "transfer"],
    ["ASOF", "INV-2026-0101", "1000.00", "2026-03-20", "BANK-LATER", "transfer"],
]
ACCOUNTS = [["account_id", "name", "timezone", "locale", "tier", "tax_id", "address",
             "slack_team_id"],
            ["ASOF", "As Of Ltd", "Europe/London", "en_GB", "standard", "", "1 Past Lane", ""]]
CONTACTS = [["account_id", "email", "name", "role", "locale", "timezone", "active"],
            ["ASOF", "ap@asof.example", "Ada", "manager", "", "", "true"]]


@pytest.fixture
async def world(tmp_path: Path, orm: str) -> Cli:
    """The world, imported as history (no alerts), seen on 2026-11-21; the CLI on it."""
    with events.silenced():
        for kind, rows in (("accounts", ACCOUNTS), ("contacts", CONTACTS),
                           ("invoices", INVOICES), ("payments", PAYMENTS)):
            out = io.StringIO()
            csv.writer(out).writerows(rows)
            path = tmp_path / f"{kind}.csv"
            path.write_text(out.getvalue())
            await import_csv(kind, path, progress=False, clock=FixedClock.on(TODAY))
    return make_cli(tmp_path, orm)


async def ask(cli: Cli, text: str, today: str | None = DATE) -> str:
    when = ["--today", today] if today else []
    code, out, err = await cli.run("ask", "--from", "ap@asof.example", *when, text)
    assert code == 0, err
    return out


def row_of(reply: str, number: str) -> str:
    """The reply's line(s) about one invoice, from its number to the next blank line."""
    match = re.search(rf"{number}.*?(?:\n\s*\n|\Z)", reply, re.S)
    assert match, f"{number} not in:\n{reply}"
    return match[0]


async def test_listings_detail_and_payments_leave_out_what_came_later(world: Cli) -> None:
    latest = await ask(world, "invoices")
    assert "INV-2026-0101" in latest and "INV-2026-0102" in latest
    assert "INV-2026-0103" not in latest
    assert "overdue" in row_of(latest, "INV-2026-0101").lower()  # paid only on 2026-03-20
    assert "paid" not in row_of(latest, "INV-2026-0101").lower()

    unpaid = await ask(world, "unpaid invoices")
    assert "INV-2026-0101" in unpaid and "INV-2026-0102" in unpaid and "INV-2026-0103" not in unpaid

    march = await ask(world, "invoices March 2026")
    assert "INV-2026-0103" not in march

    today = await ask(world, "unpaid invoices", today=None)  # live: paid, and issued
    assert "INV-2026-0103" in today and "INV-2026-0101" not in today

    detail = await ask(world, "invoice INV-2026-0101")
    assert "Amount due: €1,000.00" in detail
    assert "No payments applied yet." in detail
    assert "BANK-LATER" not in detail
    assert re.search(r"Status .*: overdue", detail)
    assert not re.search(r"Status .*: paid", detail)

    later = await ask(world, "invoice INV-2026-0103")
    assert "could not find invoice INV-2026-0103" in later

    payments = await ask(world, "payments")
    assert "BANK-EARLY" in payments
    assert "BANK-LATER" not in payments and "1,000.00" not in payments


async def test_balance_aging_and_statement_as_of_the_day(world: Cli) -> None:
    balance = await ask(world, "balance")
    # 1,000.00 (INV-2026-0101, paid later) + 400.00 (INV-2026-0102); INV-2026-0103 not issued.
    assert ("Your balance on 15 Mar 2026: €1,400.00 outstanding, of which €1,000.00 overdue."
            in balance)
    assert "€1,400.00 outstanding on 2 invoices" in balance

    aging = await ask(world, "aging")
    # INV-2026-0101 is 34 days past due on 2026-03-15; INV-2026-0102 is not yet due.
    assert ("EUR: Current €400.00 · 1-30 days €0.00 · 31-60 days €1,000.00 · 61-90 days €0.00"
            " · Over 90 days €0.00 · Total €1,400.00") in aging

    reply = await ask(world, "statement March 2026")
    assert "as of 15 Mar 2026" in reply
    # Opening 1,500.00 (both invoices issued before March); the payment of 2026-03-20
    # and the invoice of 2026-03-25 are not in March yet.
    assert "opening balance €1,500.00, invoices €0.00, payments €100.00" in reply
    assert "closing balance €1,400.00" in reply
    live = await ask(world, "statement March 2026", today=None)
    assert "invoices €700.00, payments €1,100.00, closing balance €1,100.00" in live

    statement = await Statement.get(as_of=date(2026, 3, 15))
    document = await Document.get(id=statement.document_id)
    config = load_config(world.config, env=world.env)
    store = DocumentStore.open(config.vault)
    data = await store.read(document)
    await store.close()
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "As of 15 Mar 2026" in text
    assert "INV-2026-0103" not in text  # issued 2026-03-25
    assert "BANK-EARLY" in text and "BANK-LATER" not in text
    assert "Closing balance €1,400.00" in text
    # Aging on the day: INV-2026-0102's 400.00 current, INV-2026-0101's 1,000.00 at
    # 31-60 days (it was paid only on 2026-03-20).
    assert "€400.00 €0.00 €1,000.00 €0.00 €0.00 €1,400.00" in text
