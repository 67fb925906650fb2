"""Each document in its reader's language: an invoice, a credit note, a receipt and a
statement for an account of each of the seven locales, as the PDF's text reads, with that
locale's dates and amounts; and the seller's switch that adds English to every label.

The documents are built from stored rows by the code that issues them (vault.pdf,
vault.credit_notes, vault.receipts, vault.statements) and rendered in this process with
the real templates, stylesheets and fonts.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pypdf
import pytest

from vault import credit_notes, pdf, receipts
from vault.config import SellerConfig
from vault.invoices import AccountScope
from vault.models import Account, Contact, CreditNote, Invoice, InvoiceLine, Payment
from vault.pdf import html_to_pdf, render_invoice
from vault.statement_html import statement_html
from vault.statements import build_statement

SELLER = SellerConfig(name="Northwind Supply Co.", address="1 Harbour Road\nBristol BS1 4ST",
                      tax_id="GB123456789", payment_terms="Payment due by the due date shown.",
                      timezone=ZoneInfo("Europe/London"), e_invoicing=False)
BOTH = replace(SELLER, documents_also_english=True)

# The issue date (1 March 2026) and the total (1,234.50 EUR) as each locale writes them.
FORMATS = {
    "en_GB": ("1 Mar 2026", "€1,234.50"), "de_DE": ("01.03.2026", "1.234,50 €"),
    "fr_FR": ("1 mars 2026", "1 234,50 €"), "es_ES": ("1 mar 2026", "1.234,50 €"),
    "it_IT": ("1 mar 2026", "1.234,50 €"), "nl_NL": ("1 mrt 2026", "€ 1.234,50"),
    "pt_PT": ("01/03/2026", "1 234,50 €"),
}
# What an accountant of each country expects to read on each document.
LABELS = {
    "en_GB": {"invoice": ("Invoice", "Invoice number", "Due date", "Amount due",
                          "Payable within 30 days of the invoice date", "Page 1 of 1"),
              "credit note": ("Credit note", "Credit note number", "Credits invoice"),
              "receipt": ("Payment receipt", "Paid on", "Still due"),
              "statement": ("Statement of account", "Opening balance", "Closing balance",
                            "Charges Payments Balance")},
    "de_DE": {"invoice": ("Rechnung", "Rechnungsnummer", "Fälligkeitsdatum", "Zahlbetrag",
                          "Zahlbar innerhalb von 30 Tagen ab Rechnungsdatum", "Seite 1 von 1",
                          "USt-IdNr."),
              "credit note": ("Gutschrift", "Gutschriftsnummer", "Zur Rechnung"),
              "receipt": ("Zahlungsbestätigung", "Bezahlt am", "Noch offen"),
              "statement": ("Kontoauszug", "Anfangssaldo", "Endsaldo", "Soll Haben Saldo")},
    "fr_FR": {"invoice": ("Facture", "N° de facture", "Date d'échéance", "Montant à payer",
                          "Payable à 30 jours date de facture", "Page 1 sur 1",
                          "N° TVA intracommunautaire"),
              "credit note": ("Avoir", "N° d'avoir", "Facture concernée"),
              "receipt": ("Reçu de paiement", "Payé le", "Reste à payer"),
              "statement": ("Relevé de compte", "Solde d'ouverture", "Solde de clôture",
                            "Débit Crédit Solde")},
    "es_ES": {"invoice": ("Factura", "N.º de factura", "Fecha de vencimiento",
                          "Importe a pagar", "Pagadera en 30 días", "Página 1 de 1", "NIF/CIF"),
              "credit note": ("Factura rectificativa", "Factura rectificada"),
              "receipt": ("Recibo de pago", "Pagado el", "Pendiente de pago"),
              "statement": ("Extracto de cuenta", "Saldo inicial", "Saldo final",
                            "Debe Haber Saldo")},
    "it_IT": {"invoice": ("Fattura", "Numero fattura", "Data di scadenza", "Importo da pagare",
                          "Pagamento a 30 giorni data fattura", "Pagina 1 di 1", "Partita IVA"),
              "credit note": ("Nota di credito", "Numero nota di credito",
                              "Fattura di riferimento"),
              "receipt": ("Quietanza di pagamento", "Pagato il", "Ancora da pagare"),
              "statement": ("Estratto conto", "Saldo iniziale", "Saldo finale",
                            "Dare Avere Saldo")},
    "nl_NL": {"invoice": ("Factuur", "Factuurnummer", "Vervaldatum", "Te betalen",
                          "Te betalen binnen 30 dagen na factuurdatum", "Pagina 1 van 1",
                          "Btw-nummer"),
              "credit note": ("Creditnota", "Creditnotanummer", "Bij factuur"),
              "receipt": ("Betalingsbewijs", "Betaald op", "Nog te betalen"),
              "statement": ("Rekeningoverzicht", "Beginsaldo", "Eindsaldo",
                            "Debet Credit Saldo")},
    "pt_PT": {"invoice": ("Fatura", "N.º da fatura", "Data de vencimento", "Valor a pagar",
                          "Pagamento a 30 dias da data da fatura", "Página 1 de 1", "NIF"),
              "credit note": ("Nota de crédito", "N.º da nota de crédito", "Fatura retificada"),
              "receipt": ("Recibo de pagamento", "Pago em", "Ainda em dívida"),
              "statement": ("Extrato de conta", "Saldo inicial", "Saldo final",
                            "Débito Crédito Saldo")},
}


def words(data: bytes) -> str:
    """The PDF's text as one line of words: labels that wrap, and the no-break spaces
    Babel puts in amounts, read as plain spaces."""
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " "))


async def documents(locale: str, seller: SellerConfig = SELLER) -> dict[str, bytes]:
    """The four documents of one account whose locale is `locale` (its contact has none)."""
    account = await Account.create(account_id=f"ACC-{locale}", name="Buyer Ltd",
                                   locale=locale, tax_id="XX123", address="1 Main Street")
    contact = await Contact.create(account=account, email=f"ap@{locale.lower()}.example")
    invoice = await Invoice.create(
        account=account, number=f"INV-{locale}", issue_date=date(2026, 3, 1),
        due_date=date(2026, 3, 31), currency="EUR", subtotal=Decimal("1234.50"),
        tax_total=Decimal(0), total=Decimal("1234.50"), status="open", content_hash="x" * 64)
    await InvoiceLine.create(invoice=invoice, position=1, description="Freight",
                             quantity=Decimal(1), unit_price=Decimal("1234.50"),
                             amount=Decimal("1234.50"))
    payment = await Payment.create(account=account, invoice=invoice, amount=Decimal("234.50"),
                                   paid_on=date(2026, 3, 10), natural_key=f"pay-{locale}")
    note = await CreditNote.create(account=account, number=f"CN-{locale}", invoice=invoice,
                                   issue_date=date(2026, 3, 15), currency="EUR",
                                   subtotal=Decimal(100), tax_total=Decimal(0),
                                   amount=Decimal(100), content_hash="y" * 64)
    scope = await AccountScope.for_contact(contact)
    statement = await build_statement(scope, date(2026, 1, 1), date(2026, 3, 31),
                                      date(2026, 4, 15), seller)
    receipt = receipts.snapshot(scope, seller, invoice, [payment], payment)
    return {
        "invoice": render_invoice(await pdf.snapshot(invoice, seller)),
        "credit note": render_invoice(await credit_notes.snapshot(note, seller)),
        "receipt": html_to_pdf(receipts.receipt_html(receipt)),
        "statement": html_to_pdf(statement_html(statement)),
    }


@pytest.mark.parametrize("locale", sorted(LABELS))
async def test_each_document_speaks_the_accounts_language_in_its_formats(
        orm: str, locale: str) -> None:
    day, total = FORMATS[locale]
    for kind, data in (await documents(locale)).items():
        text = words(data)
        for label in LABELS[locale][kind]:
            assert label in text, (kind, label, text)
        assert day in text, (kind, text)
        if kind != "credit note":  # it credits 100, not the invoice's total
            assert total in text, (kind, text)
        if locale != "en_GB":  # no English label left behind
            assert "Amount due" not in text and "Page 1 of" not in text, (kind, text)


@pytest.mark.parametrize("locale", ["de_DE", "pt_PT"])
async def test_the_pdf_says_its_language_and_titles_itself_in_it(
        orm: str, locale: str) -> None:
    reader = pypdf.PdfReader(io.BytesIO((await documents(locale))["invoice"]))
    assert reader.trailer["/Root"]["/Lang"] == locale[:2]
    title = {"de_DE": "Rechnung INV-de_DE", "pt_PT": "Fatura INV-pt_PT"}[locale]
    assert reader.metadata is not None and reader.metadata.title == title


async def test_the_seller_can_add_english_to_every_label(orm: str) -> None:
    made = await documents("de_DE", BOTH)
    invoice, statement = words(made["invoice"]), words(made["statement"])
    assert "Rechnungsnummer Invoice number" in invoice  # the English under the label
    assert "Zahlbetrag Amount due" in invoice
    assert "Seite 1 von 1 / Page 1 of 1" in invoice
    assert "Zahlbar innerhalb von 30 Tagen" in invoice and "Payable within 30 days" in invoice
    assert "Kontoauszug" in statement and "Statement of account" in statement
    assert "Anfangssaldo / Opening balance" in statement


async def test_an_english_document_is_never_doubled(orm: str) -> None:
    text = words((await documents("en_GB", BOTH))["invoice"])
    assert "Invoice number" in text and "Invoice number Invoice number" not in text
    assert "Page 1 of 1" in text and "/ Page" not in text
