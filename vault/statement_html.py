"""A statement of account as HTML: vault/templates/statement.html filled from a snapshot.

Pure and fast, like vault.pdf_html: every value is escaped before it reaches the template;
money and dates follow the reader's locale through Babel, and every word comes from the
`documents` catalogue in the reader's language (vault.words).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from vault.aging import BUCKETS
from vault.formats import Formats
from vault.pdf_html import template
from vault.words import N_, Words, labels_html, paragraphs

if TYPE_CHECKING:
    from vault.statements import CurrencySection, Entry, StatementSnapshot

# vault.aging's buckets (the bot's English), for the catalogue.
BUCKET_WORDS = (N_("Current"), N_("1-30 days"), N_("31-60 days"), N_("61-90 days"),
                N_("Over 90 days"))


def statement_html(s: StatementSnapshot) -> str:
    """The complete HTML document for one statement."""
    f = Formats.of(s.locale)  # dates only; money is formatted per section
    w = Words.of(s.language or s.locale, s.also_english)
    period = f"{f.day(s.start)} – {f.day(s.end)}"
    values = {
        "lang": w.language,
        "title": w.alone._("Statement of account %(account)s, %(period)s",
                           account=s.account_id, period=period),
        "created": s.as_of.isoformat(),
        "seller_name": s.seller.name,
        "seller_address": s.seller.address,
        "account_id": s.account_id,
        "period": period,
        "as_of": f.day(s.as_of),
        "buyer_name": s.buyer.name,
        "buyer_address": s.buyer.address,
        "label_statement": w._("Statement of account"), "label_account": w._("Account"),
        # The running footer shares the page's bottom with "Page 1 of 2": one language.
        "footer_statement": w.alone._("Statement of account"),
        "label_period": w._("Period"), "label_as_of": w._("As of"),
        "label_account_holder": w._("Account holder"),
    }
    escaped = {key: escape(value) for key, value in values.items()}
    sections = "\n".join(_section(section, s.locale, w, s.start, s.as_of)
                         for section in s.sections)
    if not sections:
        sections = paragraphs(w.sentences._(
            "No invoices or payments on this account up to this date."), "empty")
    note = w.sentences._("Amounts are shown per currency and never converted. Please contact "
                         "us if anything on this statement does not match your records.")
    return labels_html(template("statement.html").substitute(escaped | {
        "sections": sections, "closing_note": paragraphs(note),
        "page_footer": w.page_footer_css()}))


def _section(c: CurrencySection, locale: str, w: Words, start: date, as_of: date) -> str:
    f = Formats.of(locale, currency=c.currency)
    overview = "".join(
        f'<tr{cls}><th>{escape(label)}</th><td class="num">{escape(f.money(amount))}</td></tr>'
        for label, amount, cls in (
            (w._("Opening balance"), c.opening, ""), (w._("Invoices"), c.invoiced, ""),
            (w._("Payments"), -c.paid, ""),
            *(((w._("Credit notes"), -c.credited, ""),) if c.credited else ()),
            (w._("Closing balance"), c.closing, ' class="closing"'),
            (w.pgettext("statement", "Credit"), c.credit, ""),
        )
    )
    heading = w._("Account activity in %(currency)s", currency=c.currency)
    return (
        f'<section class="currency"><h3>{escape(heading)}</h3>'
        f'<table class="overview">{overview}</table>'
        f"{_entries(c, f, w, start, as_of)}{_aging(c, f, w)}</section>"
    )


# Fixed widths (they add up to 100%): amounts never share a cell's room with their
# neighbours, so "12.867,11 €" and "15.119,19 €" cannot run together; the type has room
# for "Pagamento" and "Gutschrift".
COLUMNS = (("Date", "date", 12), ("Type", "type", 12), ("Reference", "ref", 15),
           ("Detail", "detail", 19), ("Charges", "num", 14), ("Payments", "num", 14),
           ("Balance", "num", 14))


def _headings(w: Words) -> tuple[str, ...]:
    """COLUMNS in the reader's language: a ledger's debit and credit columns ("Soll",
    "Haben"), where English says what they hold."""
    return (w._("Date"), w._("Type"), w._("Reference"), w._("Detail"),
            w.pgettext("column", "Charges"), w.pgettext("column", "Payments"), w._("Balance"))


def _entries(c: CurrencySection, f: Formats, w: Words, start: date, as_of: date) -> str:
    if not c.entries:
        return paragraphs(w.sentences._("No invoices or payments in this period."), "empty")
    cols = "".join(f'<col style="width: {width}%">' for _, _, width in COLUMNS)
    head = "".join(f'<th class="{cls}">{escape(label)}</th>'
                   for label, (_, cls, _) in zip(_headings(w), COLUMNS, strict=True))
    body = "\n".join((
        _total_row(f.day(start), w._("Opening balance"), ("", "", f.money(c.opening)),
                   "opening"),
        *(_row((f.day(e.day), w._(e.kind), e.reference, _detail(e, f, w),
                _blank_zero(e.charge, f), _blank_zero(e.payment, f), f.money(e.balance)))
          for e in c.entries),
        _total_row(f.day(as_of), w._("Closing balance"),
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
            f'<td class="label" colspan="3">{escape(label)}</td>{cells}</tr>')


def _detail(entry: Entry, f: Formats, w: Words) -> str:
    if entry.due:
        return w._("due %(day)s", day=f.day(entry.due))
    if entry.for_number:
        return w._("for %(number)s", number=entry.for_number)
    return w._("on account") if entry.detail == "on account" else entry.detail


def _blank_zero(amount: Decimal, f: Formats) -> str:
    return f.money(amount) if amount else ""


def _aging(c: CurrencySection, f: Formats, w: Words) -> str:
    head = "".join(f'<th class="num">{escape(w._(b))}</th>' for b in (*BUCKETS, N_("Total")))
    cells = "".join(f'<td class="num">{escape(f.money(a))}</td>' for a in c.aging)
    total = f'<td class="num total">{escape(f.money(sum(c.aging, Decimal(0))))}</td>'
    title = w._("Aging of the open amount")
    return (f'<div class="aging-block"><h4>{escape(title)}</h4>'
            f'<table class="aging"><thead><tr>{head}</tr></thead>'
            f"<tbody><tr>{cells}{total}</tr></tbody></table></div>")
