"""What an alert says, and the message that carries alerts to a contact. Pure.

An alert tells what happened, the amount and the due date, and carries a signed link (a
grant to that contact) to the document. `alert_message` makes the channel-neutral
Outgoing for one alert, a digest of several, or a test alert; each channel renders it
(notifier.message). Email alerts carry a one-click unsubscribe (their MailHeaders).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from notifier.message import Link, MailHeaders, Outgoing, Section
from notifier.words import status_label
from vault import amounts
from vault.formats import Formats
from vault.i18n import SOURCE_LANGUAGE, Catalogue, catalogue
from vault.models import Invoice, InvoiceEvent
from vault.vocabulary import Channel, EventKind, OutboxKind


@dataclass(frozen=True)
class DocumentLink:
    label: str
    url: str
    expires: str  # formatted for the contact


@dataclass(frozen=True)
class Alert:
    """One event told to one contact: a headline, details, and a link to the document."""

    headline: str
    details: tuple[str, ...]
    link: DocumentLink | None = None


def alert_for(event: InvoiceEvent, invoice: Invoice, fmt: Formats,
              link: DocumentLink | None) -> Alert:
    words, _ = fmt.words, fmt.words.gettext
    total = fmt.money(invoice.total, invoice.currency)
    due = fmt.day(invoice.due_date)
    open_amount = fmt.money(amounts.due_of(invoice), invoice.currency)
    details = (_("Amount: {total} (open: {open})").format(total=total, open=open_amount),
               _("Due date: {day}").format(day=due),
               _("Status: {status}").format(status=status_label(invoice.status, words)))
    return Alert(_headline(event, invoice, fmt), details, link)


def _headline(event: InvoiceEvent, invoice: Invoice, fmt: Formats) -> str:
    """What happened, one whole sentence per kind of event."""
    words, _ = fmt.words, fmt.words.gettext
    number, total = invoice.number, fmt.money(invoice.total, invoice.currency)
    due, amount = fmt.day(invoice.due_date), fmt.money(event.amount or Decimal(0),
                                                        invoice.currency)
    if event.kind == EventKind.ISSUED:
        return _("New invoice {number}: {total}, due {due}").format(
            number=number, total=total, due=due)
    if event.kind == EventKind.STATUS_CHANGED:
        return _("Invoice {number}: {old} -> {new}").format(
            number=number, old=status_label(event.old_status or "", words),
            new=status_label(event.new_status or "", words))
    if event.kind == EventKind.PAYMENT_RECEIVED:
        return _("Payment received for invoice {number}: {amount}").format(
            number=number, amount=amount)
    if event.kind == EventKind.DUE_SOON:
        return _("Invoice {number} is due on {due}: {total}").format(
            number=number, due=due, total=total)
    if event.kind == EventKind.CREDIT_NOTE_ISSUED:
        return _("Credit note for invoice {number}: {amount}").format(
            number=number, amount=amount)
    # An event kind without its own sentence yet: named by its code.
    return _("Invoice {number}: {event}").format(number=number, event=event.kind)


# ---- the message -------------------------------------------------------------------------

def alert_message(
    *, key: str, kind: OutboxKind, channel: Channel, recipient: str, contact_id: int,
    title: str, intro: str, alerts: Sequence[Alert], mail: MailHeaders | None,
    language: str = SOURCE_LANGUAGE,
) -> Outgoing:
    """Alerts to one contact: each a card headed by what happened, with its facts and a
    download link."""
    sections = [Section(text=(intro,))] if intro else []
    words = catalogue(language, "messages")
    sections += [_card(alert, words) for alert in alerts]
    return Outgoing(kind=kind, channel=channel, recipient=recipient, key=key, title=title,
                    sections=tuple(sections), contact_id=contact_id,
                    mail=mail if channel == Channel.EMAIL else None, language=language)


def _card(alert: Alert, words: Catalogue) -> Section:
    links = () if alert.link is None else (Link(
        words.gettext("Download {document}").format(document=alert.link.label), alert.link.url,
        words.gettext("link valid until {moment}").format(moment=alert.link.expires)),)
    return Section(heading=alert.headline, details=alert.details, links=links)
