"""The invoice as HTML: vault/templates/invoice.html filled from an InvoiceSnapshot.

Pure and fast (no WeasyPrint here). Every value is HTML-escaped before it reaches the
template, so a buyer named "<b>" prints as such. Money, numbers and dates follow the
account's locale through Babel; every word comes from the `documents` catalogue in the
buyer's language (vault.words), so the template holds placeholders only.
"""

from __future__ import annotations

import functools
from html import escape
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from vault.config import DEFAULTS
from vault.formats import Formats
from vault.vocabulary import InvoiceStatus
from vault.words import N_, Words, labels_html, paragraphs

if TYPE_CHECKING:
    from vault.pdf import InvoiceSnapshot, LineSnapshot, Party

TEMPLATES = Path(__file__).parent / "templates"
# Statuses stamped across the invoice, in capitals of their label.
STAMPED = (InvoiceStatus.VOID, InvoiceStatus.DISPUTED)
DEFAULT_TERMS = DEFAULTS["seller"]["payment_terms"]


@functools.cache
def template(name: str) -> Template:
    """A document template of vault/templates (invoice, statement, receipt), read once."""
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def invoice_html(s: InvoiceSnapshot) -> str:
    """The complete HTML document for one invoice, metadata included, in the buyer's
    language (and English, with `documents_also_english`)."""
    f = Formats.of(s.locale, currency=s.currency)
    w = Words.of(s.locale, s.also_english)
    values = {
        "lang": w.language,
        "title": w.alone._("Invoice %(number)s", number=s.number),
        "description": w.alone._("Invoice %(number)s from %(seller)s to %(buyer)s",
                                 number=s.number, seller=s.seller.name, buyer=s.buyer.name),
        "keywords": ", ".join(k for k in (w.alone._("invoice"), s.number, s.account_id,
                                          s.po_number) if k),
        "created": s.issue_date.isoformat(),
        "seller_name": s.seller.name,
        "seller_address": s.seller.address,
        "number": s.number,
        "issue_date": f.day(s.issue_date),
        "due_date": f.day(s.due_date),
        "buyer_name": s.buyer.name,
        "buyer_address": s.buyer.address,
        "subtotal": f.money(s.subtotal),
        "tax_total": f.money(s.tax_total),
        "total": f.money(s.total),
        "amount_due": f.money(s.amount_due),
    } | _invoice_labels(w, s)
    escaped = {key: escape(value) for key, value in values.items()}
    fragments = {
        "seller_tax_id": _tax_id(s.seller, w),
        "buyer_tax_id": _tax_id(s.buyer, w),
        "stamp": _stamp(s.status, w),
        # An issued invoice has none (vault.pdf.snapshot): payments have their receipts.
        "amount_paid": _fact_row(w._("Amount paid"), f.money(s.amount_paid))
        if s.amount_paid else "",
        "facts": _facts(s, w),
        "lines": "\n".join(_line(line, f) for line in s.lines),
        "taxes": "\n".join(
            _row(f.rate(t.rate), f.money(t.net), f.money(t.tax)) for t in s.taxes()
        ),
        "payment_terms": _payment_terms(s, f, w),
        "page_footer": w.page_footer_css(),
    }
    return labels_html(template("invoice.html").substitute(escaped | fragments))


def _invoice_labels(w: Words, s: InvoiceSnapshot) -> dict[str, str]:
    """The words of invoice.html (and of credit_note.html, which shares its tables)."""
    return {
        "label_invoice": w._("Invoice"), "label_invoice_number": w._("Invoice number"),
        "label_issue_date": w.pgettext("invoice", "Issue date"), "label_due_date": w._("Due date"),
        "label_bill_to": w._("Bill to"), "label_description": w._("Description"),
        "label_quantity": w._("Quantity"), "label_unit_price": w._("Unit price"),
        "label_tax_rate": w._("Tax rate"), "label_amount": w._("Amount"),
        "label_net_amount": w._("Net amount"), "label_tax": w._("Tax"),
        "label_subtotal": w._("Subtotal"), "label_tax_total": w._("Tax total"),
        "label_total": w._("Total (%(currency)s)", currency=s.currency),
        "label_amount_due": w._("Amount due"), "label_payment_terms": w._("Payment terms"),
    }


def _payment_terms(s: InvoiceSnapshot, f: Formats, w: Words) -> str:
    """The terms from the catalogue (days and due date), then the seller's own terms as
    written, unless they are the default that the catalogue's sentence says better."""
    days = (s.due_date - s.issue_date).days
    sentences = w.sentences
    terms = (sentences.ngettext(
        "Payable within %(n)s day of the invoice date, by %(due)s.",
        "Payable within %(n)s days of the invoice date, by %(due)s.", days, due=f.day(s.due_date))
        if days > 0 else sentences._("Payable on receipt."))
    quote = sentences._("Please quote invoice number %(number)s with your payment.",
                        number=s.number)
    own = (f"<p>{escape(s.payment_terms)}</p>"
           if s.payment_terms and s.payment_terms != DEFAULT_TERMS else "")
    return paragraphs(terms) + own + paragraphs(quote)


def credit_note_html(s: InvoiceSnapshot) -> str:
    """The complete HTML document for one credit note: the invoice's look, titled as a
    credit note, naming the invoice it credits and why."""
    f = Formats.of(s.locale, currency=s.currency)
    w = Words.of(s.locale, s.also_english)
    title = w.alone._("Credit note %(number)s", number=s.number)
    values = {
        "lang": w.language, "title": title,
        "description": (w.alone._("Credit note %(number)s for invoice %(invoice)s from "
                                  "%(seller)s to %(buyer)s", number=s.number,
                                  invoice=s.credits, seller=s.seller.name, buyer=s.buyer.name)
                        if s.credits else
                        w.alone._("Credit note %(number)s from %(seller)s to %(buyer)s",
                                  number=s.number, seller=s.seller.name, buyer=s.buyer.name)),
        "keywords": ", ".join(k for k in (w.alone._("credit note"), s.number, s.credits,
                                          s.account_id) if k),
        "created": s.issue_date.isoformat(), "seller_name": s.seller.name,
        "seller_address": s.seller.address, "number": s.number,
        "issue_date": f.day(s.issue_date), "buyer_name": s.buyer.name,
        "buyer_address": s.buyer.address,
        "subtotal": f.money(s.subtotal), "tax_total": f.money(s.tax_total),
        "total": f.money(s.total),
    } | _invoice_labels(w, s) | _credit_note_labels(w)
    facts = ((w._("Credits invoice"), s.credits),
             (w._("Invoice date"), f.day(s.credits_issued) if s.credits_issued else ""),
             (w._("Account"), s.account_id))
    sentences = w.sentences
    fragments = {
        "seller_tax_id": _tax_id(s.seller, w), "buyer_tax_id": _tax_id(s.buyer, w),
        "facts": "\n".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
                           for label, value in facts if value),
        "reason": _reason(s.reason, w._("Reason")) if s.reason else "",
        "lines": "\n".join(_line(line, f) for line in s.lines),
        "taxes": "\n".join(
            _row(f.rate(t.rate), f.money(t.net), f.money(t.tax)) for t in s.taxes()),
        "credited": paragraphs(
            sentences._("This credit note reduces the amount due on invoice %(invoice)s by "
                        "%(amount)s.", invoice=s.credits, amount=f.money(s.total))
            if s.credits else
            sentences._("This credit of %(amount)s is held on your account.",
                        amount=f.money(s.total))),
        "page_footer": w.page_footer_css(),
    }
    return labels_html(template("credit_note.html").substitute(
        {k: escape(v) for k, v in values.items()} | fragments))


def _credit_note_labels(w: Words) -> dict[str, str]:
    return {
        "label_credit_note": w._("Credit note"),
        "label_credit_note_number": w._("Credit note number"),
        "label_issue_date": w.pgettext("credit note", "Issue date"),
        "label_credit_to": w._("Credit to"),
        "label_credited": w._("Credited"), "label_credit": w._("Credit"),
    }


def _tax_id(party: Party, w: Words) -> str:
    if not party.tax_id:
        return ""
    # Label then number, as the facts table prints them: "USt-IdNr. DE811234567".
    label = w._("Tax ID")
    return f'<p class="tax-id">{escape(label)} {escape(party.tax_id)}</p>'


# The stamp across an invoice, per status (InvoiceStatus labels are the bot's English).
STAMPS = {InvoiceStatus.VOID: N_("VOID"), InvoiceStatus.DISPUTED: N_("DISPUTED")}


def _fact_row(label: str, value: str) -> str:
    return f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"


def _reason(reason: str, heading: str) -> str:
    return (f'<section class="terms"><h3>{escape(heading)}</h3><p>{escape(reason)}</p>'
            "</section>")


def _stamp(status: str, w: Words) -> str:
    if status not in STAMPED:
        return ""
    return f'<p class="stamp">{escape(w._(STAMPS[InvoiceStatus(status)]))}</p>'


def _facts(s: InvoiceSnapshot, w: Words) -> str:
    """Optional rows under the invoice number: only what the invoice has."""
    facts = ((w._("PO number"), s.po_number), (w._("Billing entity"), s.entity),
             (w._("Account"), s.account_id))
    return "\n".join(
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value in facts if value
    )


def _line(line: LineSnapshot, f: Formats) -> str:
    description = f'<td class="description">{escape(line.description)}</td>'
    numbers = (f.quantity(line.quantity), f.price(line.unit_price), f.rate(line.tax_rate),
               f.money(line.amount))
    cells = "".join(f'<td class="num">{escape(n)}</td>' for n in numbers)
    return f"<tr>{description}{cells}</tr>"


def _row(first: str, *numbers: str) -> str:
    cells = "".join(f'<td class="num">{escape(n)}</td>' for n in numbers)
    return f"<tr><td>{escape(first)}</td>{cells}</tr>"
