"""Replies: what the contact reads, in English with dates and money in their locale. Pure.

Builders turn answers into a Reply; reply_text and reply_html render it for a channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from html import escape
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from bot.commands import Period
from bot.messages import InvoiceLine, Link, Reply
from vault.models import Invoice, InvoiceStatus

STATUS_LABELS = {
    InvoiceStatus.OPEN: "open",
    InvoiceStatus.PARTIALLY_PAID: "partially paid",
    InvoiceStatus.PAID: "paid",
    InvoiceStatus.OVERDUE: "overdue",
    InvoiceStatus.VOID: "void",
    InvoiceStatus.DISPUTED: "disputed",
}
EXAMPLES = (
    "invoices March",
    "invoices 2026-03",
    "invoice INV-1042",
    "unpaid",
    "overdue",
    "help",
)


@dataclass(frozen=True)
class Formats:
    """The contact's locale and time zone, for every date and amount in a reply."""

    locale: str
    timezone: str

    @classmethod
    def of(cls, locale: str, timezone: str) -> Formats:
        try:
            Locale.parse(locale or "en")
        except (UnknownLocaleError, ValueError):
            locale = "en"
        return cls(locale=locale or "en", timezone=timezone or "UTC")

    def day(self, value: date) -> str:
        return format_date(value, format="medium", locale=self.locale)

    def money(self, amount: Decimal, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    def moment(self, value: datetime) -> str:
        return format_datetime(
            value, format="medium", tzinfo=ZoneInfo(self.timezone), locale=self.locale
        ) + f" ({self.timezone})"

    def month(self, period: Period) -> str:
        if period.start.day == 1 and period.start.month == period.end.month:
            return format_date(period.start, format="MMMM y", locale="en")
        return f"{self.day(period.start)} – {self.day(period.end)}"


def invoice_row(invoice: Invoice, link: Link | None, fmt: Formats) -> InvoiceLine:
    return InvoiceLine(
        number=invoice.number,
        issue_date=fmt.day(invoice.issue_date),
        due_date=fmt.day(invoice.due_date),
        amount=fmt.money(invoice.total, invoice.currency),
        status=STATUS_LABELS[InvoiceStatus(invoice.status)],
        link=link,
    )


def listing(title: str, rows: list[InvoiceLine], expiry: datetime | None, fmt: Formats) -> Reply:
    count = f"{len(rows)} invoice{'s' if len(rows) != 1 else ''}"
    return Reply(
        subject=f"{title}: {count}",
        intro=f"{title}: {count}.",
        rows=tuple(rows),
        links_expire=fmt.moment(expiry) if expiry else "",
    )


def detail(invoice: Invoice, row: InvoiceLine, expiry: datetime, fmt: Formats) -> Reply:
    due = invoice.total - invoice.amount_paid
    notes = [f"Amount due: {fmt.money(due, invoice.currency)}"]
    if invoice.po_number:
        notes.insert(0, f"PO number: {invoice.po_number}")
    return Reply(
        subject=f"Invoice {invoice.number}",
        intro=f"Here is invoice {invoice.number}.",
        rows=(row,),
        notes=tuple(notes),
        links_expire=fmt.moment(expiry),
    )


def empty_period(title: str, latest: Invoice | None, fmt: Formats) -> Reply:
    hint = (
        f"The latest invoice on your account is {latest.number} from {fmt.day(latest.issue_date)}."
        if latest
        else "There are no invoices on your account yet."
    )
    return Reply(subject=f"{title}: no invoices", intro=f"{title}: no invoices.", outro=hint)


def not_found(number: str) -> Reply:
    """The same words whether the number does not exist or belongs to someone else."""
    return Reply(
        subject=f"Invoice {number}: not found",
        intro=f"We could not find invoice {number} on your account.",
        outro="Please check the number, or reply with \"invoices\" to see your latest invoices.",
    )


def help_reply(understood: bool = True) -> Reply:
    intro = (
        "Here is what you can ask for."
        if understood
        else "Sorry, we did not understand your request. Here is what you can ask for."
    )
    return Reply(subject="How to ask for invoices", intro=intro, notes=EXAMPLES,
                 outro="Write one request per line, in the subject or the message.")


def neutral_notice() -> Reply:
    """For a sender we could not verify: no invoice data, no hint whether they are known."""
    return Reply(
        subject="We could not process your request",
        intro="We received your message but could not verify it, so we cannot send documents "
        "in reply.",
        outro="Our accounts receivable team has been told and will get in touch if needed.",
    )


def reply_text(reply: Reply) -> str:
    lines = [reply.intro, ""]
    for row in reply.rows:
        lines.append(
            f"{row.number}  issued {row.issue_date}  due {row.due_date}  {row.amount}  {row.status}"
        )
        if row.link:
            lines.append(f"  {row.link.url}")
    for link in reply.links:
        lines += ["", f"{link.label}: {link.url}"]
    if reply.links_expire:
        lines += ["", f"Links expire {reply.links_expire}. Ask again for fresh ones."]
    lines += [f"- {note}" for note in reply.notes]
    if reply.outro:
        lines += ["", reply.outro]
    return "\n".join(lines).strip() + "\n"


def reply_html(reply: Reply) -> str:
    parts = [f"<p>{escape(reply.intro)}</p>"]
    if reply.rows:
        parts.append(_table(reply.rows))
    for link in reply.links:
        parts.append(f'<p><a href="{escape(link.url)}">{escape(link.label)}</a></p>')
    if reply.links_expire:
        parts.append(f"<p>Links expire {escape(reply.links_expire)}. Ask again for fresh ones.</p>")
    if reply.notes:
        parts.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in reply.notes) + "</ul>")
    if reply.outro:
        parts.append(f"<p>{escape(reply.outro)}</p>")
    return "<html><body>" + "\n".join(parts) + "</body></html>"


def _table(rows: tuple[InvoiceLine, ...]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("Invoice", "Issued", "Due", "Amount", "Status", ""))
    body = "".join(
        "<tr>"
        + "".join(f"<td>{escape(v)}</td>" for v in (r.number, r.issue_date, r.due_date, r.amount,
                                                        r.status))
        + (f'<td><a href="{escape(r.link.url)}">Download PDF</a></td>' if r.link else "<td></td>")
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
