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
from vault import amounts
from vault.formats import Formats
from vault.models import Invoice, InvoiceEvent
from vault.vocabulary import Channel, EventKind, InvoiceStatus, OutboxKind


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
    number, total = invoice.number, fmt.money(invoice.total, invoice.currency)
    due = fmt.day(invoice.due_date)
    status = InvoiceStatus.label_of(invoice.status)
    if event.kind == EventKind.ISSUED:
        headline = f"New invoice {number}: {total}, due {due}"
    elif event.kind == EventKind.STATUS_CHANGED:
        old = InvoiceStatus.label_of(event.old_status or "")
        new = InvoiceStatus.label_of(event.new_status or "")
        headline = f"Invoice {number}: {old} -> {new}"
    elif event.kind == EventKind.PAYMENT_RECEIVED:
        paid = fmt.money(event.amount or Decimal(0), invoice.currency)
        headline = f"Payment received for invoice {number}: {paid}"
    elif event.kind == EventKind.DUE_SOON:
        headline = f"Invoice {number} is due on {due}: {total}"
    elif event.kind == EventKind.CREDIT_NOTE_ISSUED:
        credited = fmt.money(event.amount or Decimal(0), invoice.currency)
        headline = f"Credit note for invoice {number}: {credited}"
    else:
        headline = f"Invoice {number}: {event.kind}"
    open_amount = fmt.money(amounts.due_of(invoice), invoice.currency)
    details = (f"Amount: {total} (open: {open_amount})", f"Due date: {due}", f"Status: {status}")
    return Alert(headline, details, link)


# ---- the message -------------------------------------------------------------------------

def alert_message(
    *, key: str, kind: OutboxKind, channel: Channel, recipient: str, contact_id: int,
    title: str, intro: str, alerts: Sequence[Alert], mail: MailHeaders | None,
) -> Outgoing:
    """Alerts to one contact: each a card headed by what happened, with its facts and a
    download link."""
    sections = [Section(text=(intro,))] if intro else []
    sections += [_card(alert) for alert in alerts]
    return Outgoing(kind=kind, channel=channel, recipient=recipient, key=key, title=title,
                    sections=tuple(sections), contact_id=contact_id,
                    mail=mail if channel == Channel.EMAIL else None)


def _card(alert: Alert) -> Section:
    links = () if alert.link is None else (Link(
        f"Download {alert.link.label}", alert.link.url,
        f"link valid until {alert.link.expires}"),)
    return Section(heading=alert.headline, details=alert.details, links=links)
