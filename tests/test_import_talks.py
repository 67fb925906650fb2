"""An import that talks: progress from the first row (PDFs counted, with a rate), every bad
row of a file in one run, semicolon and tab files, decimal commas on request."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from tests.test_cli import make_cli
from tests.test_import import CLOCK, failure, load, write
from vault.ingest.csv import import_csv
from vault.ingest.progress import ImportProgress
from vault.models import Account, Invoice, InvoiceLine, Payment

HEADER = ("account_id,invoice_number,issue_date,due_date,currency,description,quantity,"
          "unit_price,tax_rate")


def invoice_rows(count: int, sep: str = ",", issued: date = date(2026, 1, 5)) -> str:
    return "".join(
        sep.join(["ACME", f"INV-T{n:03d}", issued.isoformat(),
                  (issued + timedelta(days=30)).isoformat(), "EUR", "Freight", "2",
                  "450.00", "19"]) + "\n" for n in range(count))


async def test_the_cli_shows_progress_of_a_ten_row_file_and_its_pdfs(
    orm: str, tmp_path: Path,
) -> None:
    cli = make_cli(tmp_path, orm)
    await cli.load("accounts")
    # Issued today (the CLI's clock): news, rendered by the import; history would be left
    # to serve's render queue (vault.render_queue).
    path = write(tmp_path, "invoices.csv", HEADER + "\n" + invoice_rows(10, issued=date.today()))
    code, out, err = await cli.run("import", "invoices", str(path), "--progress")
    assert code == 0, err
    assert "invoices.csv: 10 created, 0 updated, 0 unchanged" in out
    lines = err.splitlines()
    assert lines[0] == "invoices.csv: checking 10 rows"
    # one line per row for so short a file, each with a count and a rate
    checked = [ln for ln in lines if ln.startswith("invoices.csv: checked ")]
    assert [re.sub(r" \(.*", "", ln) for ln in checked] == [
        f"invoices.csv: checked {n} of 10 rows" for n in range(1, 11)]
    assert all(re.search(r"\([\d,]+ rows/s\)$", ln) for ln in checked)
    rendered = [ln for ln in lines if ln.startswith("invoices.csv: rendered ")]
    assert rendered[-1].startswith("invoices.csv: rendered 10 of 10 PDFs (")
    assert re.search(r"\([\d,]+ PDFs/s\)$", rendered[-1])
    order = ["invoices.csv: checking 10 rows", "invoices.csv: writing",
             "invoices.csv: rendering 10 PDFs"]
    assert [ln for ln in lines if ln in order] == order
    assert rendered and lines.index(rendered[0]) > lines.index(order[-1])


async def test_without_a_terminal_or_progress_flag_the_cli_is_quiet(
    orm: str, tmp_path: Path,
) -> None:
    cli = make_cli(tmp_path, orm)
    await cli.load("accounts")
    path = write(tmp_path, "invoices.csv", HEADER + "\n" + invoice_rows(3))
    code, _, err = await cli.run("import", "invoices", str(path))
    assert code == 0 and "invoices.csv" not in err, err


def test_on_a_terminal_the_bar_starts_at_the_first_row_and_counts_pdfs() -> None:
    out = io.StringIO()
    bar = ImportProgress("small.csv", console=Console(file=out, force_terminal=True, width=120))
    assert list(bar.rows(list(range(10)))) == list(range(10))
    bar.writing()
    tick = bar.rendering(3)
    for _ in range(3):
        tick()
    bar.close()
    shown = out.getvalue()
    assert "checking small.csv" in shown and "rendering PDFs" in shown
    assert "3/3" in shown


async def test_every_bad_row_of_a_file_is_reported_in_one_run(orm: str, tmp_path: Path) -> None:
    await load("accounts")
    rows = invoice_rows(8).splitlines()
    rows[1] = "ACME,INV-T001,2026-01-05,2026-02-04,EUR,Freight,2"  # short
    rows[2] = rows[2] + ",extra,cells"  # long
    rows[3] = rows[3].replace("2026-02-04", "2026-02-30")  # no such date
    rows[4] = rows[4].replace("450.00", '"450,00"')  # decimal comma, not asked for
    rows[5] = rows[5].replace("ACME", "NOSUCH")  # unknown account
    rows[6] = rows[6].replace("EUR", "EURO")  # not a currency
    path = write(tmp_path, "invoices.csv", HEADER + "\n" + "\n".join(rows) + "\n")
    errors = await failure("invoices", path)
    assert errors == [
        "invoices.csv line 3: has 7 cells but the header has 9 columns (missing: unit_price,"
        " tax_rate)",
        "invoices.csv line 4: has 11 cells but the header has 9 columns (a separator inside a"
        " cell? quote that cell)",
        "invoices.csv line 5: due_date '2026-02-30' is not a date (YYYY-MM-DD)",
        "invoices.csv line 6: unit_price '450,00' is not a number (digits with a dot, e.g."
        " 12.50); if the file writes decimal commas, import it with --decimal-comma",
        "invoices.csv line 8: currency 'EURO' is not an ISO 4217 currency code",
        "invoices.csv line 7: account_id 'NOSUCH' is not a known account",
    ]
    assert await Invoice.all().count() == 0


async def test_a_semicolon_file_with_decimal_commas_imports(orm: str, tmp_path: Path) -> None:
    await load("accounts")
    text = (HEADER.replace(",", ";") + "\n"
            "ACME;INV-S1;2026-01-05;2026-02-04;EUR;Freight;1,5;1.234,50;19\n"
            "ACME;INV-S2;2026-01-05;2026-02-04;EUR;Handling;2;35,5;7\n")
    path = write(tmp_path, "invoices.csv", text)
    result = await import_csv("invoices", path, clock=CLOCK, progress=False, decimal_comma=True)
    assert result.created == 2
    line = await InvoiceLine.get(invoice__number="INV-S1")
    assert (line.quantity, line.unit_price) == (Decimal("1.5"), Decimal("1234.50"))
    assert (await InvoiceLine.get(invoice__number="INV-S2")).unit_price == Decimal("35.50")


async def test_a_semicolon_file_without_the_flag_is_refused_with_the_hint(
    orm: str, tmp_path: Path,
) -> None:
    await load("accounts")
    path = write(tmp_path, "invoices.csv", HEADER.replace(",", ";") + "\n"
                 "ACME;INV-S1;2026-01-05;2026-02-04;EUR;Freight;1;1.234,50;19\n")
    assert await failure("invoices", path) == [
        "invoices.csv line 2: unit_price '1.234,50' is not a number (digits with a dot, e.g."
        " 12.50); if the file writes decimal commas, import it with --decimal-comma"]


async def test_a_tab_file_imports_and_a_point_under_decimal_comma_is_refused(
    orm: str, tmp_path: Path,
) -> None:
    await load("accounts")
    path = write(tmp_path, "payments.csv", "account_id\tinvoice_number\tamount\tpaid_on\n")
    assert (await import_csv("payments", path, clock=CLOCK, progress=False)).created == 0
    await load("invoices")
    path = write(tmp_path, "payments.csv", "account_id\tinvoice_number\tamount\tpaid_on\n"
                 "ACME\tINV-1001\t100.50\t2026-01-10\n")
    with pytest.raises(ValueError, match=r"line 2: amount '100.50' is not a number with a "
                                         r"decimal comma \(e\.g\. 1\.234,50\)"):
        await import_csv("payments", path, clock=CLOCK, progress=False, decimal_comma=True)
    assert await Payment.all().count() == 0
    result = await import_csv("payments", path, clock=CLOCK, progress=False)
    assert result.created == 1


async def test_a_header_with_another_separator_gets_a_hint(orm: str, tmp_path: Path) -> None:
    path = write(tmp_path, "accounts.csv", "account_id|name\nACME|Acme\n")
    assert await failure("accounts", path) == [
        "accounts.csv line 1: unknown column(s) account_id|name (an accounts file has"
        " account_id, name, timezone, locale, tier, tax_id, address, slack_team_id,"
        " step_up); the header looks separated by '|': save the file with commas,"
        " semicolons or tabs"
        " between the cells",
        "accounts.csv line 1: missing required column(s) account_id, name",
    ]
    assert await Account.all().count() == 0
