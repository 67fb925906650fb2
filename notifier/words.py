"""The vocabulary's labels (vault.vocabulary) as a contact reads them, in their language.

The enums keep one English label each (AR, logs and the CLI read those); what a contact
reads goes through the `messages` catalogue here. Each label is a literal call so Babel's
extract finds it; the context ("invoice status") tells a translator which sense is meant.
"""

from __future__ import annotations

from vault.i18n import Catalogue
from vault.vocabulary import AlertEvent, Channel, InvoiceStatus, Role


def status_label(value: str, words: Catalogue) -> str:
    """An invoice status ("open", "partially paid"); an unknown stored value as it is."""
    try:
        status = InvoiceStatus(value)
    except ValueError:
        return value
    match status:
        case InvoiceStatus.OPEN:
            return words.pgettext("invoice status", "open")
        case InvoiceStatus.PARTIALLY_PAID:
            return words.pgettext("invoice status", "partially paid")
        case InvoiceStatus.PAID:
            return words.pgettext("invoice status", "paid")
        case InvoiceStatus.OVERDUE:
            return words.pgettext("invoice status", "overdue")
        case InvoiceStatus.VOID:
            return words.pgettext("invoice status", "void")
        case InvoiceStatus.DISPUTED:
            return words.pgettext("invoice status", "disputed")


def role_label(role: Role, words: Catalogue) -> str:
    match role:
        case Role.AP:
            return words.pgettext("contact role", "AP")
        case Role.APPROVER:
            return words.pgettext("contact role", "approver")
        case Role.MANAGER:
            return words.pgettext("contact role", "manager")


def channel_label(channel: Channel, words: Catalogue) -> str:
    """Slack and Telegram are names; email and the command line are words."""
    match channel:
        case Channel.EMAIL:
            return words.pgettext("channel", "email")
        case Channel.CLI:
            return words.pgettext("channel", "command line")
        case _:
            return channel.label


def history_note(note: str, words: Catalogue) -> str:
    """A status history note of vault.history in the reader's language; a note that
    quotes someone (a dispute's reason) is shown as written."""
    match note:
        case "issued":
            return words.pgettext("status history", "issued")
        case "due date passed":
            return words.pgettext("status history", "due date passed")
        case "payment received":
            return words.pgettext("status history", "payment received")
        case "voided":
            return words.pgettext("status history", "voided")
        case "dispute resolved":
            return words.pgettext("status history", "dispute resolved")
        case "disputed, as our records show":
            return words.pgettext("status history", "disputed, as our records show")
        case "no reason given":
            return words.pgettext("status history", "no reason given")
    return note


def event_label(event: AlertEvent, words: Catalogue) -> str:
    """What a contact can be alerted about ("new invoices", "payments received")."""
    match event:
        case AlertEvent.ISSUED:
            return words.pgettext("alert about", "new invoices")
        case AlertEvent.STATUS_CHANGED:
            return words.pgettext("alert about", "status changes")
        case AlertEvent.PAYMENT_RECEIVED:
            return words.pgettext("alert about", "payments received")
        case AlertEvent.OVERDUE:
            return words.pgettext("alert about", "overdue invoices")
        case AlertEvent.DUE_SOON:
            return words.pgettext("alert about", "invoices due soon")
        case AlertEvent.CREDIT_NOTE_ISSUED:
            return words.pgettext("alert about", "credit notes")
