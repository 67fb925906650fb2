"""A statement of account as HTML: vault/templates/statement.html filled from a snapshot.

Pure and fast, like vault.pdf_html: every value is escaped before it reaches the template;
money and dates follow the account's locale through Babel, labels are English.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from html import escape
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from vault.aging import BUCKETS
from vault.formats import Formats

if TYPE_CHECKING:
    from vault.statements import CurrencySection, Entry, StatementSnapshot

TEMPLATE_PATH = Path(__file__).parent / "templates" / "statement.html"


@functools.cache
def _template() -> Template:
    return Template(TEMPLATE_PATH.read_text(encoding="utf-8"))


def statement_html(s: StatementSnapshot) -> str:
    """The complete HTML document for one statement."""
    f = Formats.of(s.locale)  # dates only; money is formatted per section
    period = f"{f.day(s.start)} – {f.day(s.end)}"
    values = {
        "lang": s.locale.split("_")[0],
        "title": f"Statement of account {s.account_id}, {period}",
        "created": s.as_of.isoformat(),
        "seller_name": s.seller.name,
        "seller_address": s.seller.address,
        "account_id": s.account_id,
        "period": period,
        "as_of": f.day(s.as_of),
        "buyer_name": s.buyer.name,
        "buyer_address": s.buyer.address,
    }
    escaped = {key: escape(value) for key, value in values.items()}
    sections = "\n".join(_section(section, s.locale) for section in s.sections)
    if not sections:
        sections = '<p class="empty">No invoices or payments on this account up to this date.</p>'
    return _template().substitute(escaped | {"sections": sections})


def _section(c: CurrencySection, locale: str) -> str:
    f = Formats.of(locale, currency=c.currency)
    overview = "".join(
        f'<tr{cls}><th>{label}</th><td>{escape(f.money(amount))}</td></tr>'
        for label, amount, cls in (
            ("Opening balance", c.opening, ""), ("Invoices", c.invoiced, ""),
            ("Payments", -c.paid, ""), ("Closing balance", c.closing, ' class="closing"'),
            ("Credit", c.credit, ""),
        )
    )
    return (
        f'<section class="currency"><h3>{escape(c.currency)}</h3>'
        f'<table class="overview">{overview}</table>'
        f"{_entries(c.entries, f)}{_aging(c, f)}</section>"
    )


def _entries(entries: tuple[Entry, ...], f: Formats) -> str:
    if not entries:
        return '<p class="empty">No invoices or payments in this period.</p>'
    head = "".join(
        f'<th{" class=num" if i > 3 else ""}>{h}</th>'
        for i, h in enumerate(("Date", "Type", "Reference", "Detail", "Charges", "Payments",
                               "Balance"))
    )
    body = "\n".join(
        "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in (f.day(e.day), e.kind, e.reference,
                                                              _detail(e, f)))
        + "".join(f'<td class="num">{escape(v)}</td>' for v in (
            _blank_zero(e.charge, f), _blank_zero(e.payment, f), f.money(e.balance)))
        + "</tr>"
        for e in entries
    )
    return f'<table class="entries"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _detail(entry: Entry, f: Formats) -> str:
    return f"due {f.day(entry.due)}" if entry.due else entry.detail


def _blank_zero(amount: Decimal, f: Formats) -> str:
    return f.money(amount) if amount else ""


def _aging(c: CurrencySection, f: Formats) -> str:
    head = "".join(f"<th>{escape(b)}</th>" for b in (*BUCKETS, "Total"))
    cells = "".join(f"<td>{escape(f.money(a))}</td>" for a in c.aging)
    total = f'<td class="total">{escape(f.money(sum(c.aging, Decimal(0))))}</td>'
    return (f'<h3>Aging</h3><table class="aging"><thead><tr>{head}</tr></thead>'
            f"<tbody><tr>{cells}{total}</tr></tbody></table>")
