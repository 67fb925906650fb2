"""Replies: what the contact reads, in their language (Formats.words, the `messages`
catalogue) with dates and money in their locale. Pure.

The answers (bot.answers.*) build a Reply per request; `combine` makes one Reply of
several; reply_text renders a Reply as plain text for the CLI (`invoicebot ask`).
What is sent goes through bot.outgoing and each channel's renderer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.messages import Link, ListingRow, Reply
from notifier.words import status_label
from vault import amounts
from vault.formats import Formats
from vault.i18n import Catalogue, catalogue
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
    if invoice.status == InvoiceStatus.PAID and last_paid is not None:
        return fmt.words.gettext("paid on {day}").format(day=fmt.day(last_paid))
    return status_label(invoice.status, fmt.words)


def latest_hint(latest: Invoice | None, fmt: Formats, nearest: bool = False) -> str:
    _ = fmt.words.gettext
    if latest is None:
        return _("There are no invoices on your account yet.")
    text = (_("The nearest invoice on your account is {number} from {day}.") if nearest
            else _("The latest invoice on your account is {number} from {day}."))
    return text.format(number=latest.number, day=fmt.day(latest.issue_date))


def not_found(number: str, near: tuple[str, ...], fmt: Formats) -> Reply:
    """The same words whether the number does not exist or belongs to someone else:
    the near misses are this account's own numbers, never another's."""
    _ = fmt.words.gettext
    hint = (_("Did you mean {numbers}?").format(numbers=fmt.or_list(near)) if near else
            _('Please check the number, or reply with "invoices" to see your latest invoices.'))
    return Reply(
        subject=_("Invoice {number}: not found").format(number=number),
        intro=_("We could not find invoice {number} on your account.").format(number=number),
        outro=hint,
    )


def ambiguous(number: str, candidates: tuple[str, ...], fmt: Formats) -> Reply:
    """Several invoices fit: we never guess, the contact picks."""
    _ = fmt.words.gettext
    return Reply(
        subject=_("Invoice {number}: which one?").format(number=number),
        intro=_("Several invoices on your account match {number}:").format(number=number),
        notes=candidates,
        outro=_("Please write the full number of the one you mean."),
    )


def neutral_notice(language: str) -> Reply:
    """For a sender we could not verify: no invoice data, no hint whether they are known.
    `language` is the one their message was written in (nothing on file is read for it)."""
    _ = catalogue(language, "messages").gettext
    return Reply(
        subject=_("We could not process your request"),
        intro=_("We received your message but could not verify it, so we cannot send "
                "documents in reply."),
        outro=_("Our accounts receivable team has been told and will get in touch if "
                "needed."),
        language=language,
    )


def combine(parts: list[Reply], today: date, fmt: Formats) -> Reply:
    """One Reply for a message with several requests: one section per request."""
    _ = fmt.words.gettext
    if len(parts) == 1:
        only = parts[0]
        return only if only.language == fmt.language else replace(only, language=fmt.language)
    subjects = "; ".join(p.subject for p in parts)
    # Every link of one message is granted at the same moment for the same time.
    expires = next((p.links_expire for p in parts if p.links_expire), "")
    flat_notes: list[str] = []
    for part in parts:
        flat_notes += [_("{subject}: {intro}").format(subject=part.subject, intro=part.intro),
                       *part.notes]
        if part.outro:
            flat_notes.append(part.outro)
    return Reply(
        subject=fmt.words.ngettext("Your {count} request: {subjects}",
                                   "Your {count} requests: {subjects}", len(parts)
                                   ).format(count=len(parts), subjects=subjects)[:200],
        intro=fmt.words.ngettext(
            "You asked for {count} thing on {day}; each answer follows.",
            "You asked for {count} things on {day}; each answer follows.", len(parts),
        ).format(count=len(parts), day=fmt.day(today)),
        rows=tuple(row for p in parts for row in p.rows),
        links=tuple(link for p in parts for link in p.links),
        links_expire=expires,
        notes=tuple(flat_notes),
        deliver=any(p.deliver for p in parts),
        sections=tuple(parts),
        chat_offers=tuple(p for part in parts for p in part.chat_offers),
        language=fmt.language,
    )


# ---- rendering ------------------------------------------------------------------------------

def reply_text(reply: Reply) -> str:
    words = catalogue(reply.language, "messages")
    if not reply.sections:
        blocks = _text_blocks(reply, words, with_expiry=True)
    else:
        blocks = [[reply.intro]]
        for number, section in enumerate(reply.sections, 1):
            heading = f"{number}. {section.subject}"
            inner = _text_blocks(section, words, with_expiry=False)
            blocks += [[heading, "-" * min(72, len(heading)), *inner[0]], *inner[1:]]
        blocks += _expiry_blocks(reply.links_expire, words)
        if reply.outro:
            blocks.append([reply.outro])
    return "\n\n".join("\n".join(block) for block in blocks if block).strip() + "\n"


def _text_blocks(reply: Reply, words: Catalogue, with_expiry: bool) -> list[list[str]]:
    """Paragraphs of plain text: intro, invoice rows, links, expiry, notes, outro."""
    rows: list[str] = []
    for row in reply.rows:
        rows.append(words.gettext("{number}  issued {issued}  due {due}  {amount}  {status}")
                    .format(number=row.number, issued=row.issue_date, due=row.due_date,
                            amount=row.amount_due(words), status=row.status))
        if row.link:
            rows.append(f"  {row.link.url}")
    blocks = [[reply.intro], rows, *([f"{link.label}: {link.url}"] for link in reply.links)]
    if with_expiry:
        blocks += _expiry_blocks(reply.links_expire, words)
    blocks += [[f"- {note}" for note in reply.notes], [reply.outro] if reply.outro else []]
    return [block for block in blocks if block]


def _expiry_blocks(expires: str, words: Catalogue) -> list[list[str]]:
    return [[expiry_note(expires, words)]] if expires else []


def expiry_note(expires: str, words: Catalogue) -> str:
    return words.gettext("Links expire {moment}. Ask again for fresh ones.").format(
        moment=expires)
