"""The statement PDF as its reader sees it: columns that stay apart, headers on every page,
"Seite N von M", and no invented references. The statement is German (its reader's
locale): long German words must fit the columns too.

The snapshot is built by hand (the figures are not the point here, the layout is) and
rendered in this process with the real template, stylesheets and fonts.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pypdf
import pytest

from vault.pdf import Party, html_to_pdf
from vault.statement_html import statement_html
from vault.statements import CurrencySection, Entry, StatementSnapshot, _entries

AGING = (Decimal("12867.11"), Decimal("15119.19"), Decimal("3001.00"), Decimal("0.00"),
         Decimal("998.50"))


def entries(count: int) -> tuple[Entry, ...]:
    """Invoices of about 12.900 € and, every third line, a payment; every other payment
    has no reference."""
    out, balance, day = [], Decimal("1200.00"), date(2026, 1, 3)
    for i in range(count):
        if i % 3 == 2:
            amount = Decimal("812.40") + i
            balance -= amount
            reference = "" if i % 2 else f"BANK-{i:05d}"
            out.append(Entry(day, "Payment", reference, f"for INV-2026-{i - 1:04d}", None,
                             Decimal(0), amount, balance, f"INV-2026-{i - 1:04d}"))
        else:
            amount = Decimal("12867.11") + i * 7
            balance += amount
            out.append(Entry(day, "Invoice", f"INV-2026-{i:04d}", "", day + timedelta(days=30),
                             amount, Decimal(0), balance))
        day += timedelta(days=4)
    return tuple(out)


def snapshot(count: int, locale: str = "de_DE") -> StatementSnapshot:
    lines = entries(count)
    section = CurrencySection(
        "EUR", Decimal("1200.00"), sum((e.charge for e in lines), Decimal(0)),
        sum((e.payment for e in lines), Decimal(0)), Decimal("0.00"), lines, AGING)
    return StatementSnapshot(
        Party("Northwind Freight GmbH", "Hafenstraße 12\n20457 Hamburg", "DE123456789"),
        Party("Acme Trading Ltd", "1 Market Street\nLondon EC1A 1AA", "GB999"), "ACME",
        date(2026, 1, 1), date(2026, 12, 31), date(2026, 11, 21), locale, (section,))


@pytest.fixture(scope="module")
def long_statement() -> list[str]:
    """The text of each page of a statement of 60 lines (more than one page)."""
    pdf = pypdf.PdfReader(io.BytesIO(html_to_pdf(statement_html(snapshot(60)))))
    # Babel puts a no-break space between amount and symbol; compare with plain spaces.
    return [page.extract_text().replace("\xa0", " ") for page in pdf.pages]


def test_aging_headers_and_buckets_are_separate_tokens(long_statement: list[str]) -> None:
    text = "\n".join(long_statement)
    assert "Nicht fällig 1–30 Tage 31–60 Tage 61–90 Tage Über 90 Tage Gesamt" in text
    assert "12.867,11 € 15.119,19 € 3.001,00 € 0,00 € 998,50 € 31.985,80 €" in text


def test_money_columns_do_not_run_together(long_statement: list[str]) -> None:
    text = "\n".join(long_statement)
    # A payment line: its amount, then the running balance, as two tokens.
    assert re.search(r"zu INV-2026-0001 814,40 € 26\.126,82 €", text)
    # An invoice line: due date, charge, balance.
    assert "INV-2026-0000 fällig 02.02.2026 12.867,11 € 14.067,11 €" in text
    for page in long_statement:
        assert not re.search(r"€\d", page), page  # an amount never touches the next


def test_long_statement_repeats_the_table_header_and_counts_pages(
    long_statement: list[str],
) -> None:
    pages = len(long_statement)
    with_lines = [p for p in long_statement if re.search(r"\d{4} (Rechnung|Zahlung) ", p)]
    assert len(with_lines) >= 2
    for page in with_lines:
        assert "Datum Art Referenz Details Soll Haben Saldo" in page
    for number, page in enumerate(long_statement, start=1):
        assert f"Seite {number} von {pages}" in page


def test_running_balance_opens_and_closes_the_table(long_statement: list[str]) -> None:
    text = "\n".join(long_statement)
    assert "01.01.2026 Anfangssaldo 1.200,00 €" in text
    assert re.search(r"21\.11\.2026 Endsaldo [\d.]+,\d\d € [\d.]+,\d\d € [\d.]+,\d\d €",
                     text)


def test_a_payment_without_reference_shows_an_empty_cell() -> None:
    invoice = SimpleNamespace(id=1, number="INV-1", issue_date=date(2026, 1, 5),
                              due_date=date(2026, 2, 4), total=Decimal("100.00"))
    payment = SimpleNamespace(invoice_id=1, paid_on=date(2026, 1, 20), reference="",
                              amount=Decimal("40.00"))
    lines = _entries([invoice], [payment], {1: invoice}, date(2026, 1, 1),  # type: ignore[list-item,dict-item]
                     Decimal(0))
    assert [(e.kind, e.reference, e.detail) for e in lines] == [
        ("Invoice", "INV-1", ""), ("Payment", "", "for INV-1")]
    html = statement_html(snapshot_of(lines))
    assert '<td class="type">Zahlung</td><td class="ref"></td>' in html
    assert '<td class="detail">zu INV-1</td>' in html


def snapshot_of(lines: list[Entry]) -> StatementSnapshot:
    base: Any = snapshot(1)
    section = CurrencySection("EUR", Decimal(0), Decimal(0), Decimal(0), Decimal(0),
                              tuple(lines), AGING)
    return StatementSnapshot(base.seller, base.buyer, base.account_id, base.start, base.end,
                             base.as_of, base.locale, (section,))
