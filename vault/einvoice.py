"""E-invoices: the invoice snapshot as Factur-X / ZUGFeRD CII XML (profile EN 16931),
checked against the official XSD and embedded into the invoice's PDF/A-3 by the
`factur-x` library. Runs in the PDF worker process, next to the WeasyPrint render.

What the XML says is what the PDF prints: the same parties, lines, tax breakdown per rate
(vault.pdf.InvoiceSnapshot.taxes) and totals. An invoice whose printed totals do not add
up from its lines gets no XML, since a buyer's system would book different figures than
the page shows (EInvoiceError says which).

Mapping choices, where our data is thinner than EN 16931:
- a tax rate above 0 is category S (standard), 0 is Z (zero rated): we keep no exemption
  or reverse-charge reason, so E/AE/K cannot be told apart from Z;
- a tax id starting with a country prefix is a VAT id (scheme VA); a seller's other tax
  id is a tax number (FC); a buyer's other id is its legal registration id (BT-47);
- addresses are free text: their lines become LineOne..LineThree; the country comes from
  a last line naming a country (in English or the account's language) or, failing that,
  from the tax id's prefix; an address without a known country is left out;
- the PO number is both the buyer reference (BT-10) and the order reference (BT-13); the
  invoice number is the payment reference (BT-83), so the bank statement names it;
- with `[seller] iban` set, payment means 58 (SEPA credit transfer) with the IBAN and BIC;
  without it, no payment instructions (BG-16 is optional; code 1 "not defined" would say
  nothing more), and the printed payment terms still travel as BT-20.
Credit notes (vault.credit_notes) use the same snapshot: type code 381 (UNTDID 1001),
amounts positive as the standard wants, the credited invoice as the preceding invoice
reference (BT-25, with its issue date BT-26), no payment means, terms nor due date (the
buyer has nothing to pay) and no payment reference.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from babel import Locale
from lxml import etree
from lxml.builder import ElementMaker

from vault.words import Words

if TYPE_CHECKING:
    from vault.pdf import InvoiceSnapshot, LineSnapshot, Party

PROFILE = "urn:cen.eu:en16931:2017"  # BT-24: Factur-X / ZUGFeRD profile EN 16931 (COMFORT)
INVOICE = "380"  # UNTDID 1001 commercial invoice
CREDIT_NOTE = "381"  # UNTDID 1001 credit note
SEPA_CREDIT_TRANSFER = "58"  # UNTDID 4461
UNIT = "C62"  # UN/ECE rec. 20 "one": our lines carry no unit of measure
_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
RSM = ElementMaker(namespace=_NS["rsm"], nsmap=_NS)
RAM = ElementMaker(namespace=_NS["ram"], nsmap=_NS)
UDT = ElementMaker(namespace=_NS["udt"], nsmap=_NS)
QDT = ElementMaker(namespace=_NS["qdt"], nsmap=_NS)
_COUNTRY_PREFIX = re.compile(r"^[A-Z]{2}")
_VAT_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}  # Greece's and Northern Ireland's VAT prefixes


class EInvoiceError(ValueError):
    """The invoice cannot be made a valid EN 16931 e-invoice; the message says why."""


def cii_xml(s: InvoiceSnapshot) -> bytes:
    """The snapshot as CII XML, checked: consistent with the printed totals and valid
    against the Factur-X EN 16931 XSD. Raises EInvoiceError otherwise."""
    _check_totals(s)
    root = RSM.CrossIndustryInvoice(
        RSM.ExchangedDocumentContext(
            RAM.GuidelineSpecifiedDocumentContextParameter(RAM.ID(PROFILE))),
        RSM.ExchangedDocument(RAM.ID(s.number),
                              RAM.TypeCode(CREDIT_NOTE if s.credit_note else INVOICE),
                              RAM.IssueDateTime(_date(s.issue_date))),
        RSM.SupplyChainTradeTransaction(
            *(_line(position, line) for position, line in enumerate(s.lines, start=1)),
            _agreement(s), RAM.ApplicableHeaderTradeDelivery(), _settlement(s)),
    )
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True)
    check_xsd(xml)
    return xml


def check_xsd(xml: bytes) -> None:
    """Raise EInvoiceError unless the XML is valid against the Factur-X EN 16931 XSD."""
    from facturx import xml_check_xsd

    try:
        xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as exc:  # the library raises bare Exception, with the XSD's message
        raise EInvoiceError(str(exc)) from exc


def _check_totals(s: InvoiceSnapshot) -> None:
    if not s.lines:
        raise EInvoiceError("an e-invoice needs at least one line (EN 16931 BR-16)")
    lines = sum((line.amount for line in s.lines), Decimal(0))
    tax = sum((row.tax for row in s.taxes()), Decimal(0))
    if (lines, tax, lines + tax) != (s.subtotal, s.tax_total, s.total):
        raise EInvoiceError(
            f"the lines add up to net {lines}, tax {tax} (rounded per "
            f"rate), total {lines + tax}, but the invoice says net {s.subtotal}, tax "
            f"{s.tax_total}, total {s.total}")


def _line(position: int, line: LineSnapshot) -> etree._Element:
    # EN 16931 wants a price of at least 0 (BR-27): a discount line given as 1 x -10.00
    # goes as -1 x 10.00, the same net amount.
    price, quantity = ((line.unit_price, line.quantity) if line.unit_price >= 0
                       else (-line.unit_price, -line.quantity))
    return RAM.IncludedSupplyChainTradeLineItem(
        RAM.AssociatedDocumentLineDocument(RAM.LineID(str(position))),
        RAM.SpecifiedTradeProduct(RAM.Name(line.description or "-")),
        RAM.SpecifiedLineTradeAgreement(
            RAM.NetPriceProductTradePrice(RAM.ChargeAmount(_number(price)))),
        RAM.SpecifiedLineTradeDelivery(RAM.BilledQuantity(_number(quantity), unitCode=UNIT)),
        RAM.SpecifiedLineTradeSettlement(
            RAM.ApplicableTradeTax(RAM.TypeCode("VAT"), RAM.CategoryCode(_category(line.tax_rate)),
                                   RAM.RateApplicablePercent(_number(line.tax_rate))),
            RAM.SpecifiedTradeSettlementLineMonetarySummation(
                RAM.LineTotalAmount(_amount(line.amount)))),
    )


def _agreement(s: InvoiceSnapshot) -> etree._Element:
    po = [RAM.BuyerReference(s.po_number)] if s.po_number else []
    order = ([RAM.BuyerOrderReferencedDocument(RAM.IssuerAssignedID(s.po_number))]
             if s.po_number else [])
    return RAM.ApplicableHeaderTradeAgreement(
        *po,
        _party(RAM.SellerTradeParty, s.seller, "en", seller=True),
        _party(RAM.BuyerTradeParty, s.buyer, s.locale, seller=False),
        *order,
    )


def _party(tag: Any, party: Party, locale: str, *, seller: bool) -> etree._Element:
    vat = _is_vat_id(party.tax_id)
    legal = ([RAM.SpecifiedLegalOrganization(RAM.ID(party.tax_id))]
             if party.tax_id and not vat and not seller else [])
    scheme = "VA" if vat else "FC"
    registration = ([RAM.SpecifiedTaxRegistration(RAM.ID(party.tax_id, schemeID=scheme))]
                    if party.tax_id and (vat or seller) else [])
    return tag(RAM.Name(party.name), *legal, *_address(party, locale), *registration)


def _address(party: Party, locale: str) -> list[etree._Element]:
    lines = address_lines(party.address)
    country = country_of(lines[-1], locale) if lines else ""
    if country:
        lines = lines[:-1]
    else:
        country = _tax_id_country(party.tax_id)
    if not country:
        return []
    if len(lines) > 3:  # CII has three address lines: the rest joins the third
        lines = [*lines[:2], ", ".join(lines[2:])]
    tags = (RAM.LineOne, RAM.LineTwo, RAM.LineThree)
    return [RAM.PostalTradeAddress(*(tag(text) for tag, text in zip(tags, lines, strict=False)),
                                   RAM.CountryID(country))]


def address_lines(address: str) -> list[str]:
    """A free-text address as lines: one per line, or per comma if it is one line."""
    rows = [row.strip() for row in address.splitlines() if row.strip()]
    if len(rows) == 1:
        rows = [part.strip() for part in rows[0].split(",") if part.strip()]
    return rows


def country_of(text: str, locale: str = "en") -> str:
    """The ISO 3166 code a line names ("United Kingdom", "Deutschland", "DE"), or ""."""
    name = text.strip().casefold()
    if re.fullmatch(r"[a-z]{2}", name) and name.upper() in _countries("en").values():
        return name.upper()
    return _countries("en").get(name) or _countries(locale).get(name, "")


@functools.cache
def _countries(locale: str) -> dict[str, str]:
    """Country names in one language, casefolded, to their two-letter codes."""
    names = Locale.parse(locale).territories
    return {str(name).casefold(): code for code, name in names.items()
            if len(code) == 2 and code.isalpha()}


def _tax_id_country(tax_id: str) -> str:
    prefix = tax_id.strip()[:2].upper()
    if not _COUNTRY_PREFIX.match(prefix):
        return ""
    code = _VAT_PREFIX_COUNTRY.get(prefix, prefix)
    return code if code in _countries("en").values() else ""


def _is_vat_id(tax_id: str) -> bool:
    return bool(_tax_id_country(tax_id)) and any(c.isdigit() for c in tax_id)


def _settlement(s: InvoiceSnapshot) -> etree._Element:
    invoice = not s.credit_note
    return RAM.ApplicableHeaderTradeSettlement(
        *([RAM.PaymentReference(s.number)] if invoice else []),
        RAM.InvoiceCurrencyCode(s.currency),
        *(_payment_means(s) if invoice else []),
        *(RAM.ApplicableTradeTax(
            RAM.CalculatedAmount(_amount(row.tax)), RAM.TypeCode("VAT"),
            RAM.BasisAmount(_amount(row.net)), RAM.CategoryCode(_category(row.rate)),
            RAM.RateApplicablePercent(_number(row.rate)))
          for row in s.taxes()),
        *([RAM.SpecifiedTradePaymentTerms(
            *([RAM.Description(s.payment_terms)] if s.payment_terms else []),
            RAM.DueDateDateTime(_date(s.due_date)))] if invoice else []),
        _summation(s),
        *_preceding_invoice(s),
    )


def _preceding_invoice(s: InvoiceSnapshot) -> list[etree._Element]:
    """BT-25/BT-26: the invoice a credit note credits."""
    if not s.credit_note or not s.credits:
        return []
    issued = ([RAM.FormattedIssueDateTime(QDT.DateTimeString(
        s.credits_issued.strftime("%Y%m%d"), format="102"))] if s.credits_issued else [])
    return [RAM.InvoiceReferencedDocument(RAM.IssuerAssignedID(s.credits), *issued)]


def _payment_means(s: InvoiceSnapshot) -> list[etree._Element]:
    if not s.iban:
        return []
    bank = ([RAM.PayeeSpecifiedCreditorFinancialInstitution(RAM.BICID(s.bic))]
            if s.bic else [])
    return [RAM.SpecifiedTradeSettlementPaymentMeans(
        RAM.TypeCode(SEPA_CREDIT_TRANSFER),
        RAM.PayeePartyCreditorFinancialAccount(RAM.IBANID(s.iban)), *bank)]


def _summation(s: InvoiceSnapshot) -> etree._Element:
    prepaid = min(s.amount_paid, s.total)
    return RAM.SpecifiedTradeSettlementHeaderMonetarySummation(
        RAM.LineTotalAmount(_amount(s.subtotal)),
        RAM.TaxBasisTotalAmount(_amount(s.subtotal)),
        RAM.TaxTotalAmount(_amount(s.tax_total), currencyID=s.currency),
        RAM.GrandTotalAmount(_amount(s.total)),
        *([RAM.TotalPrepaidAmount(_amount(prepaid))] if prepaid else []),
        RAM.DuePayableAmount(_amount(s.total - prepaid)),
    )


def _category(rate: Decimal) -> str:
    return "S" if rate > 0 else "Z"


def _date(day: date) -> etree._Element:
    return UDT.DateTimeString(day.strftime("%Y%m%d"), format="102")


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def _number(value: Decimal) -> str:
    """A quantity, price or percent without exponent or trailing zeros: "19", "12.5"."""
    return f"{value.normalize():f}"


# ---- embedding ----------------------------------------------------------------------------

_STAMP_LOCK = threading.Lock()


def embed(pdf: bytes, xml: bytes, s: InvoiceSnapshot) -> bytes:
    """The PDF/A-3 with the XML attached as factur-x.xml (relationship Alternative: the XML
    is the same invoice in another form) and Factur-X XMP metadata (pdfaid:part 3)."""
    from facturx import generate_from_binary

    described = _described(s)
    kind = described.pop("kind")
    metadata = {"author": s.seller.name, **described,
                "keywords": ", ".join(k for k in (kind, s.number, s.credits, s.account_id,
                                                  s.po_number, "Factur-X") if k)}
    with _stamped(s.issue_date):
        result: bytes = generate_from_binary(
            pdf, xml, flavor="factur-x", level="en16931", check_xsd=False,
            pdf_metadata=metadata, lang=s.locale.replace("_", "-"),
            afrelationship="alternative")
    return result


def _described(s: InvoiceSnapshot) -> dict[str, str]:
    """Title, subject and kind in the document's language (as its HTML metadata): the
    library overwrites the PDF's own."""
    w = Words.of(s.locale).alone
    names = {"number": s.number, "seller": s.seller.name, "buyer": s.buyer.name}
    if s.credit_note:
        return {"title": w._("Credit note %(number)s", **names),
                "subject": w._("Credit note %(number)s from %(seller)s to %(buyer)s", **names),
                "kind": w._("credit note")}
    return {"title": w._("Invoice %(number)s", **names),
            "subject": w._("Invoice %(number)s from %(seller)s to %(buyer)s", **names),
            "kind": w._("invoice")}


@contextlib.contextmanager
def _stamped(day: date) -> Iterator[None]:
    """Make the library date the PDF by the issue date instead of the clock.

    factur-x stamps the current time into the document info, the XMP and the attachment
    and has no argument for it; the same invoice must give the same bytes, or the
    document store keeps a copy per render. So its two timestamp helpers are swapped for
    the issue date while it runs (under a lock: they are module globals).
    """
    from facturx import facturx as library

    at = datetime(day.year, day.month, day.day, tzinfo=UTC)
    saved = library._get_pdf_timestamp, library._get_metadata_timestamp
    with _STAMP_LOCK:
        library._get_pdf_timestamp = lambda date=None: saved[0](date or at)
        library._get_metadata_timestamp = lambda: at.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        try:
            yield
        finally:
            library._get_pdf_timestamp, library._get_metadata_timestamp = saved
