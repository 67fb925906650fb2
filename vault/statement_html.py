"""A statement of account as HTML: vault/templates/statement.html filled from a snapshot.

Pure and fast, like vault.pdf_html: every value is escaped before it reaches the template;
money and dates follow the account's locale through Babel, labels are English.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from vault.aging import BUCKETS
from vault.formats import Formats
from vault.pdf_html import template

if TYPE_CHECKING:
    from vault.statements import CurrencySection, Entry, StatementSnapshot




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
    sections = "\n".join(_section(section, s.locale, s.start, s.as_of) for section in s.sections)
    if not sections:
        sections = '<p class="empty">No invoices or payments on this account up to this date.</p>'
    return template("statement.html").substitute(escaped | {"sections": sections})


def _section(c: CurrencySection, locale: str, start: date, as_of: date) -> str:
    f = Formats.of(locale, currency=c.currency)
    overview = "".join(
        f'<tr{cls}><th>{label}</th><td class="num">{escape(f.money(amount))}</td></tr>'
        for label, amount, cls in (
            ("Opening balance", c.opening, ""), ("Invoices", c.invoiced, ""),
            ("Payments", -c.paid, ""),
            *((("Credit notes", -c.credited, ""),) if c.credited else ()),
            ("Closing balance", c.closing, ' class="closing"'),
            ("Credit", c.credit, ""),
        )
    )
    return (
        f'<section class="currency"><h3>Account activity in {escape(c.currency)}</h3>'
        f'<table class="overview">{overview}</table>'
        f"{_entries(c, f, start, as_of)}{_aging(c, f)}</section>"
    )


# Fixed widths (they add up to 100%): amounts never share a cell's room with their
# neighbours, so "12.867,11 €" and "15.119,19 €" cannot run together.
COLUMNS = (("Date", "date", 13), ("Type", "type", 10), ("Reference", "ref", 16),
           ("Detail", "detail", 19), ("Charges", "num", 14), ("Payments", "num", 14),
           ("Balance", "num", 14))


def _entries(c: CurrencySection, f: Formats, start: date, as_of: date) -> str:
    if not c.entries:
        return '<p class="empty">No invoices or payments in this period.</p>'
    cols = "".join(f'<col style="width: {width}%">' for _, _, width in COLUMNS)
    head = "".join(f'<th class="{cls}">{label}</th>' for label, cls, _ in COLUMNS)
    body = "\n".join((
        _total_row(f.day(start), "Opening balance", ("", "", f.money(c.opening)), "opening"),
        *(_row((f.day(e.day), e.kind, e.reference, _detail(e, f), _blank_zero(e.charge, f),
                _blank_zero(e.payment, f), f.money(e.balance))) for e in c.entries),
        _total_row(f.day(as_of), "Closing balance",
                   (f.money(c.invoiced), f.money(c.paid + c.credited), f.money(c.closing)),
                   "closing"),
    ))
    # thead is display: table-header-group, so WeasyPrint repeats it on every page
    return (f'<table class="entries"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _row(values: tuple[str, ...]) -> str:
    cells = "".join(f'<td class="{kind}">{escape(v)}</td>'
                    for v, (_, kind, _) in zip(values, COLUMNS, strict=True))
    return f"<tr>{cells}</tr>"


def _total_row(day: str, label: str, amounts: tuple[str, str, str], cls: str) -> str:
    """The opening or closing line: its label spans type, reference and detail."""
    cells = "".join(f'<td class="num">{escape(a)}</td>' for a in amounts)
    return (f'<tr class="{cls}"><td class="date">{escape(day)}</td>'
            f'<td class="label" colspan="3">{label}</td>{cells}</tr>')


def _detail(entry: Entry, f: Formats) -> str:
    return f"due {f.day(entry.due)}" if entry.due else entry.detail


def _blank_zero(amount: Decimal, f: Formats) -> str:
    return f.money(amount) if amount else ""


def _aging(c: CurrencySection, f: Formats) -> str:
    head = "".join(f'<th class="num">{escape(b)}</th>' for b in (*BUCKETS, "Total"))
    cells = "".join(f'<td class="num">{escape(f.money(a))}</td>' for a in c.aging)
    total = f'<td class="num total">{escape(f.money(sum(c.aging, Decimal(0))))}</td>'
    return (f'<div class="aging-block"><h4>Aging of the open amount</h4>'
            f'<table class="aging"><thead><tr>{head}</tr></thead>'
            f"<tbody><tr>{cells}{total}</tr></tbody></table></div>")
