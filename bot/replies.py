"""Replies: what the contact reads, in English with dates and money in their locale. Pure.

The answers (bot.answers.*) build a Reply per request; `combine` makes one Reply of
several; reply_text renders a Reply as plain text for the CLI (`invoicebot ask`).
What is sent goes through bot.outgoing and each channel's renderer.
"""

from __future__ import annotations

from datetime import date

from bot.messages import Link, ListingRow, Reply
from vault import amounts
from vault.formats import Formats, and_list
from vault.models import Invoice, InvoiceStatus

__all__ = ["Formats", "combine", "invoice_row", "reply_text"]


def invoice_row(invoice: Invoice, link: Link | None, fmt: Formats,
                last_paid: date | None = None) -> ListingRow:
    """`invoice` as read through AccountScope (as of its day). What is still due is shown
    next to the total once part of it was paid (vault.amounts); a paid invoice says when
    (its PDF is the invoice as issued; the detail links a receipt per payment)."""
    due = amounts.due_of(invoice)
    still_due = fmt.money(due, invoice.currency) if 0 < due < invoice.total else ""
    return ListingRow(
        number=invoice.number,
        issue_date=fmt.day(invoice.issue_date),
        due_date=fmt.day(invoice.due_date),
        amount=fmt.money(invoice.total, invoice.currency),
        status=_status(invoice, last_paid, fmt),
        link=link,
        still_due=still_due,
    )


def _status(invoice: Invoice, last_paid: date | None, fmt: Formats) -> str:
    label = InvoiceStatus(invoice.status).label
    if invoice.status == InvoiceStatus.PAID and last_paid is not None:
        return f"{label} on {fmt.day(last_paid)}"
    return label


def latest_hint(latest: Invoice | None, fmt: Formats, word: str = "latest") -> str:
    if latest is None:
        return "There are no invoices on your account yet."
    return (f"The {word} invoice on your account is {latest.number} "
            f"from {fmt.day(latest.issue_date)}.")


def not_found(number: str, near: tuple[str, ...] = ()) -> Reply:
    """The same words whether the number does not exist or belongs to someone else:
    the near misses are this account's own numbers, never another's."""
    hint = (f"Did you mean {and_list(near).replace(' and ', ' or ')}?" if near else
            "Please check the number, or reply with \"invoices\" to see your latest invoices.")
    return Reply(
        subject=f"Invoice {number}: not found",
        intro=f"We could not find invoice {number} on your account.",
        outro=hint,
    )


def ambiguous(number: str, candidates: tuple[str, ...]) -> Reply:
    """Several invoices fit: we never guess, the contact picks."""
    return Reply(
        subject=f"Invoice {number}: which one?",
        intro=f"Several invoices on your account match {number}:",
        notes=candidates,
        outro="Please write the full number of the one you mean.",
    )


def neutral_notice() -> Reply:
    """For a sender we could not verify: no invoice data, no hint whether they are known."""
    return Reply(
        subject="We could not process your request",
        intro="We received your message but could not verify it, so we cannot send documents "
        "in reply.",
        outro="Our accounts receivable team has been told and will get in touch if needed.",
    )


def combine(parts: list[Reply], today: date, fmt: Formats) -> Reply:
    """One Reply for a message with several requests: one section per request."""
    if len(parts) == 1:
        return parts[0]
    subjects = "; ".join(p.subject for p in parts)
    # Every link of one message is granted at the same moment for the same time.
    expires = next((p.links_expire for p in parts if p.links_expire), "")
    flat_notes: list[str] = []
    for part in parts:
        flat_notes += [f"{part.subject}: {part.intro}", *part.notes]
        if part.outro:
            flat_notes.append(part.outro)
    return Reply(
        subject=f"Your {len(parts)} requests: {subjects}"[:200],
        intro=f"You asked for {len(parts)} things on {fmt.day(today)}; each answer follows.",
        rows=tuple(row for p in parts for row in p.rows),
        links=tuple(link for p in parts for link in p.links),
        links_expire=expires,
        notes=tuple(flat_notes),
        deliver=any(p.deliver for p in parts),
        sections=tuple(parts),
        chat_offers=tuple(p for part in parts for p in part.chat_offers),
    )


# ---- rendering ------------------------------------------------------------------------------

def reply_text(reply: Reply) -> str:
    if not reply.sections:
        blocks = _text_blocks(reply, with_expiry=True)
    else:
        blocks = [[reply.intro]]
        for number, section in enumerate(reply.sections, 1):
            heading = f"{number}. {section.subject}"
            inner = _text_blocks(section, with_expiry=False)
            blocks += [[heading, "-" * min(72, len(heading)), *inner[0]], *inner[1:]]
        blocks += _expiry_blocks(reply.links_expire)
        if reply.outro:
            blocks.append([reply.outro])
    return "\n\n".join("\n".join(block) for block in blocks if block).strip() + "\n"


def _text_blocks(reply: Reply, with_expiry: bool) -> list[list[str]]:
    """Paragraphs of plain text: intro, invoice rows, links, expiry, notes, outro."""
    rows: list[str] = []
    for row in reply.rows:
        rows.append(
            f"{row.number}  issued {row.issue_date}  due {row.due_date}  {row.amount_due}  "
            f"{row.status}"
        )
        if row.link:
            rows.append(f"  {row.link.url}")
    blocks = [[reply.intro], rows, *([f"{link.label}: {link.url}"] for link in reply.links)]
    if with_expiry:
        blocks += _expiry_blocks(reply.links_expire)
    blocks += [[f"- {note}" for note in reply.notes], [reply.outro] if reply.outro else []]
    return [block for block in blocks if block]


def _expiry_blocks(expires: str) -> list[list[str]]:
    return [[f"Links expire {expires}. Ask again for fresh ones."]] if expires else []
