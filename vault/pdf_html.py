"""The invoice as HTML: vault/templates/invoice.html filled from an InvoiceSnapshot.

Pure and fast (no WeasyPrint here). Every value is HTML-escaped before it reaches the
template, so a buyer named "<b>" prints as such. Money, numbers and dates follow the
account's locale through Babel; labels are English for now.
"""

from __future__ import annotations

import functools
from html import escape
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from vault.formats import Formats
from vault.vocabulary import InvoiceStatus

if TYPE_CHECKING:
    from vault.pdf import InvoiceSnapshot, LineSnapshot, Party

TEMPLATES = Path(__file__).parent / "templates"
# Statuses stamped across the invoice, in capitals of their label.
STAMPED = (InvoiceStatus.VOID, InvoiceStatus.DISPUTED)


@functools.cache
def template(name: str) -> Template:
    """A document template of vault/templates (invoice, statement, receipt), read once."""
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def invoice_html(s: InvoiceSnapshot) -> str:
    """The complete HTML document for one invoice, metadata included."""
    f = Formats.of(s.locale, currency=s.currency)
    values = {
        "lang": s.locale.split("_")[0],
        "title": f"Invoice {s.number}",
        "description": f"Invoice {s.number} from {s.seller.name} to {s.buyer.name}",
        "keywords": ", ".join(k for k in ("invoice", s.number, s.account_id, s.po_number) if k),
        "created": s.issue_date.isoformat(),
        "seller_name": s.seller.name,
        "seller_address": s.seller.address,
        "number": s.number,
        "issue_date": f.day(s.issue_date),
        "due_date": f.day(s.due_date),
        "buyer_name": s.buyer.name,
        "buyer_address": s.buyer.address,
        "currency": s.currency,
        "subtotal": f.money(s.subtotal),
        "tax_total": f.money(s.tax_total),
        "total": f.money(s.total),
        "amount_due": f.money(s.amount_due),
        "payment_terms": s.payment_terms,
    }
    escaped = {key: escape(value) for key, value in values.items()}
    fragments = {
        "seller_tax_id": _tax_id(s.seller),
        "buyer_tax_id": _tax_id(s.buyer),
        "stamp": _stamp(s.status),
        # An issued invoice has none (vault.pdf.snapshot): payments have their receipts.
        "amount_paid": (f"<tr><th>Amount paid</th><td>{escape(f.money(s.amount_paid))}</td></tr>"
                        if s.amount_paid else ""),
        "facts": _facts(s),
        "lines": "\n".join(_line(line, f) for line in s.lines),
        "taxes": "\n".join(
            _row(f.rate(t.rate), f.money(t.net), f.money(t.tax)) for t in s.taxes()
        ),
    }
    return template("invoice.html").substitute(escaped | fragments)


def credit_note_html(s: InvoiceSnapshot) -> str:
    """The complete HTML document for one credit note: the invoice's look, titled
    "Credit note", naming the invoice it credits and why."""
    f = Formats.of(s.locale, currency=s.currency)
    credits = (f"Credit note {s.number} for invoice {s.credits}" if s.credits
               else f"Credit note {s.number}")
    values = {
        "lang": s.locale.split("_")[0],
        "title": f"Credit note {s.number}",
        "description": f"{credits} from {s.seller.name} to {s.buyer.name}",
        "keywords": ", ".join(k for k in ("credit note", s.number, s.credits, s.account_id)
                              if k),
        "created": s.issue_date.isoformat(), "seller_name": s.seller.name,
        "seller_address": s.seller.address, "number": s.number,
        "issue_date": f.day(s.issue_date), "buyer_name": s.buyer.name,
        "buyer_address": s.buyer.address, "currency": s.currency,
        "subtotal": f.money(s.subtotal), "tax_total": f.money(s.tax_total),
        "total": f.money(s.total),
        "credited": (f"This credit note reduces the amount due on invoice {s.credits} by "
                     f"{f.money(s.total)}." if s.credits else
                     f"This credit of {f.money(s.total)} is held on your account."),
    }
    facts = (("Credits invoice", s.credits),
             ("Invoice date", f.day(s.credits_issued) if s.credits_issued else ""),
             ("Account", s.account_id))
    fragments = {
        "seller_tax_id": _tax_id(s.seller), "buyer_tax_id": _tax_id(s.buyer),
        "facts": "\n".join(f"<tr><th>{label}</th><td>{escape(value)}</td></tr>"
                           for label, value in facts if value),
        "reason": (f'<section class="terms"><h3>Reason</h3><p>{escape(s.reason)}</p></section>'
                   if s.reason else ""),
        "lines": "\n".join(_line(line, f) for line in s.lines),
        "taxes": "\n".join(
            _row(f.rate(t.rate), f.money(t.net), f.money(t.tax)) for t in s.taxes()),
    }
    return template("credit_note.html").substitute(
        {k: escape(v) for k, v in values.items()} | fragments)


def _tax_id(party: Party) -> str:
    return f'<p class="tax-id">Tax ID: {escape(party.tax_id)}</p>' if party.tax_id else ""


def _stamp(status: str) -> str:
    if status not in STAMPED:
        return ""
    return f'<p class="stamp">{InvoiceStatus(status).label.upper()}</p>'


def _facts(s: InvoiceSnapshot) -> str:
    """Optional rows under the invoice number: only what the invoice has."""
    facts = (("PO number", s.po_number), ("Billing entity", s.entity),
             ("Account", s.account_id))
    return "\n".join(
        f"<tr><th>{label}</th><td>{escape(value)}</td></tr>" for label, value in facts if value
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
