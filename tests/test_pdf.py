"""Invoice PDFs: what a reader of the PDF sees, its metadata, and that rendering stays local."""

from __future__ import annotations

import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pypdf
import pytest

from vault import pdf
from vault.config import SellerConfig
from vault.models import Account, Invoice, InvoiceLine
from vault.pdf import FetchRefused, PdfRenderer, babel_locale, render_invoice, snapshot

SELLER = SellerConfig(
    name="Northwind Supply Co.",
    address="1 Harbour Road\nBristol BS1 4ST\nUnited Kingdom",
    tax_id="GB123456789",
    payment_terms="Payment within 30 days by bank transfer.",
    timezone=ZoneInfo("Europe/London"),
)
# description, quantity, unit price, tax rate (percent), net amount
TWO_RATES = [
    ("Pallet of copier paper", "3", "12.50", "19", "37.50"),
    ("Łódź courier surcharge", "1", "150.00", "7", "150.00"),
]


async def make_invoice(
    lines: list[tuple[str, str, str, str, str]] = TWO_RATES,
    locale: str = "de",
    buyer: str = "Müller & Söhne GmbH",
    **fields: Any,
) -> Invoice:
    account = await Account.create(
        account_id="ACME-01", name=buyer, locale=locale, tax_id="DE811234567",
        address="Königstraße 1\n70173 Stuttgart",
    )
    subtotal = sum((Decimal(line[4]) for line in lines), Decimal(0))
    # one line per rate here, so per-line rounding equals the PDF's per-rate rounding
    tax = sum((cents(Decimal(line[4]) * Decimal(line[3]) / 100) for line in lines), Decimal(0))
    values: dict[str, Any] = {
        "number": "INV-1042", "po_number": "PO-7781", "entity": "Müller Logistik",
        "issue_date": date(2025, 3, 1), "due_date": date(2025, 3, 31), "currency": "EUR",
        "subtotal": subtotal, "tax_total": tax, "total": subtotal + tax,
        "amount_paid": Decimal("50.00"),
        "content_hash": "x" * 64,
    }
    invoice = await Invoice.create(account=account, **(values | fields))
    for position, (text, quantity, price, rate, amount) in enumerate(lines, start=1):
        await InvoiceLine.create(
            invoice=invoice, position=position, description=text, quantity=Decimal(quantity),
            unit_price=Decimal(price), tax_rate=Decimal(rate), amount=Decimal(amount),
        )
    return invoice


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


async def rendered(orm: str, **kwargs: Any) -> bytes:
    invoice = await make_invoice(**kwargs)
    return render_invoice(await snapshot(invoice, SELLER))


async def test_pdf_shows_parties_numbers_lines_and_totals(orm: str) -> None:
    text = pdf_text(await rendered(orm))

    for expected in ("INV-1042", "PO-7781", "Müller & Söhne GmbH", "Northwind Supply Co.",
                     "GB123456789", "DE811234567", "Müller Logistik", "Königstraße 1",
                     "Pallet of copier paper", "Łódź courier surcharge",
                     "Payment within 30 days by bank transfer."):
        assert expected in text
    # A German buyer: German words and formats, 187,50 net + 7,13 + 10,50 tax = 205,13.
    # The PDF is the invoice as issued: the 50,00 paid since is on its receipt, not here
    # (it would go stale).
    assert "Gesamtbetrag (EUR) 205,13\xa0€" in text
    assert "Bezahlt" not in text and "Amount paid" not in text
    assert "Zahlbetrag 205,13\xa0€" in text
    assert "01.03.2025" in text and "31.03.2025" in text


async def test_pdf_metadata_names_invoice_seller_and_account(orm: str) -> None:
    metadata = pypdf.PdfReader(io.BytesIO(await rendered(orm))).metadata

    assert metadata is not None
    assert metadata.title == "Rechnung INV-1042"  # the buyer's language, as <html lang>
    assert metadata.author == "Northwind Supply Co."
    assert "INV-1042" in (metadata.subject or "")
    keywords = [k.strip() for k in str(metadata["/Keywords"]).split(",")]
    assert "INV-1042" in keywords and "ACME-01" in keywords


async def test_two_tax_rates_each_get_a_breakdown_row(orm: str) -> None:
    text = pdf_text(await rendered(orm, locale="en"))

    breakdown = text.split("Tax rate Net amount Tax", 1)[1].splitlines()
    assert "7% €150.00 €10.50" in breakdown
    assert "19% €37.50 €7.13" in breakdown


async def test_amounts_follow_the_account_locale(orm: str) -> None:
    text = pdf_text(await rendered(orm, locale="en-GB"))

    assert "Amount due €205.13" in text
    assert "1 Mar 2025" in text


async def test_markup_in_names_prints_as_text(orm: str) -> None:
    text = pdf_text(await rendered(orm, buyer="<b>Bold</b> & Co $number"))

    assert "<b>Bold</b> & Co $number" in text


async def test_void_invoice_is_stamped(orm: str) -> None:
    assert "STORNIERT" in pdf_text(await rendered(orm, status="void"))  # a German buyer


async def test_void_invoice_is_stamped_in_english_for_an_english_buyer(orm: str) -> None:
    assert "VOID" in pdf_text(await rendered(orm, status="void", locale="en"))


async def test_characters_beyond_the_bundled_font_still_print(orm: str) -> None:
    text = pdf_text(await rendered(orm, buyer="Ωmega Αθήνα ΑΕ"))

    assert "Ωmega Αθήνα ΑΕ" in text


async def test_same_invoice_renders_the_same_bytes(orm: str) -> None:
    invoice = await make_invoice()
    frozen = await snapshot(invoice, SELLER)

    assert render_invoice(frozen) == render_invoice(frozen)


def test_rendering_fetches_only_bundled_template_files(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    refused: list[str] = []
    real_local_path = pdf.local_path

    def spy(url: str) -> Any:
        asked.append(url)
        try:
            return real_local_path(url)
        except FetchRefused:
            refused.append(url)
            raise

    monkeypatch.setattr(pdf, "local_path", spy)
    html = ('<link rel="stylesheet" href="http://example.com/x.css">'
            '<img src="https://example.com/logo.png"><img src="file:///etc/hostname">'
            '<p>Invoice</p>')

    assert pdf.html_to_pdf(html).startswith(b"%PDF-")
    assert set(refused) == {"http://example.com/x.css", "https://example.com/logo.png",
                            "file:///etc/hostname"}
    assert set(asked) == set(refused)


@pytest.mark.parametrize("url", ["http://example.com/a.css", "ftp://example.com/f.ttf",
                                 "file:///etc/passwd", "data:text/css,p{}"])
def test_fetcher_refuses_anything_but_template_files(url: str) -> None:
    with pytest.raises(FetchRefused):
        pdf.local_fetcher().fetch(url)


def test_fetcher_serves_the_bundled_font() -> None:
    font_url = (pdf.TEMPLATES / "fonts" / "InvoiceSans-Regular.ttf").as_uri()

    assert pdf.local_fetcher().fetch(font_url).read()[:4] == b"\x00\x01\x00\x00"


@pytest.mark.parametrize(("tag", "expected"),
                         [("de-DE", "de_DE"), ("fr", "fr"), ("", "en"), ("xx-YY", "en")])
def test_account_locale_tags_become_babel_locales(tag: str, expected: str) -> None:
    assert babel_locale(tag) == expected


async def test_renderer_renders_in_a_worker_process(orm: str, renderer: PdfRenderer) -> None:
    frozen = await snapshot(await make_invoice(), SELLER)
    await renderer.warm_up()

    data = await renderer.render(frozen)

    assert data == render_invoice(frozen)
    assert "INV-1042" in pdf_text(data)
