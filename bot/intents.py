"""What a contact can ask for: the typed commands the parser produces and the pipeline runs.

The parser (bot.commands.parse) is pure and knows nothing about the account, so anything
that needs the account's rows to resolve (an invoice number written loosely, a billing
entity's name) stays here as the contact wrote it, and the account-scoped layer resolves
it. Every command is a frozen dataclass; the union `Command` is the whole language.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

from vault.models import InvoiceStatus
from vault.vocabulary import AlertEvent, Cadence, Channel

UNPAID = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.OVERDUE)
OVERDUE = (InvoiceStatus.OVERDUE,)


@dataclass(frozen=True)
class Period:
    """A span of calendar days, both ends inclusive, in the contact's time zone."""

    start: date
    end: date  # inclusive

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        last = calendar.monthrange(year, month)[1]
        return cls(date(year, month, 1), date(year, month, last))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))


@dataclass(frozen=True)
class InvoiceRef:
    """An invoice number as written ("INV-2026-0042", "inv 2026 42", "#42").

    `digits` are the number's digit groups as integers, so "INV-2026-0042" and
    "inv 2026 42" both carry (2026, 42); `prefix` is the letters before them, upper-cased,
    or "" ("#42"). The account-scoped layer matches on these and never guesses: several
    matches or only near ones come back as candidates.
    """

    text: str
    prefix: str
    digits: tuple[int, ...]


@dataclass(frozen=True)
class Due:
    """A due-date filter: due from `start` to `end`, both inclusive; an end left None is
    open ("due before the 15th"). Due() asks for no dates, only the order: soonest due
    first ("what is due")."""

    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class Filters:
    """What narrows a listing; every field is optional and they combine with AND."""

    period: Period | None = None
    statuses: tuple[InvoiceStatus, ...] = ()
    po_number: str | None = None
    min_amount: Decimal | None = None  # "over 5000": total strictly above
    max_amount: Decimal | None = None  # "under 100": total strictly below
    amount: Decimal | None = None  # "€1,250.00": this total exactly
    currency: str | None = None  # ISO 4217, when the amount was written with one
    entity: str | None = None  # billing entity as written ("Acme Freight GmbH")
    last: int | None = None  # "last 3 invoices": the N most recent that match
    due: Due | None = None  # "due this week": by due date (`period` is the issue date)


@dataclass(frozen=True)
class ListInvoices:
    filters: Filters = Filters()


@dataclass(frozen=True)
class ShowInvoice:
    ref: InvoiceRef


@dataclass(frozen=True)
class Balance:
    """Open and overdue totals per currency."""

    entity: str | None = None


@dataclass(frozen=True)
class Aging:
    """Current, 1-30, 31-60, 61-90, over 90 days overdue, per currency."""

    entity: str | None = None


@dataclass(frozen=True)
class Statement:
    """A statement of account PDF for a period (None: this year to date)."""

    period: Period | None = None


@dataclass(frozen=True)
class Payments:
    """Payments / remittance history for a period (None: the most recent)."""

    period: Period | None = None


@dataclass(frozen=True)
class Archive:
    """All matching PDFs as one signed ZIP link ("all 2025 as zip")."""

    filters: Filters = Filters()


@dataclass(frozen=True)
class Dispute:
    ref: InvoiceRef
    reason: str  # the contact's own words after the number, may be ""


@dataclass(frozen=True)
class TalkToPerson:
    """"talk to a person", "agent", "call me": escalated to AR with the conversation."""

    text: str


@dataclass(frozen=True)
class ConnectChat:
    """"connect telegram", "link slack": the only request answered with one-click
    chat-linking links (an ordinary reply never carries them)."""

    platform: str  # slack, telegram


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Thanks:
    """"thanks!", "ok", "perfect, thank you", "danke": no request, a courtesy. Answered
    briefly (or not at all: email.answer_thanks), never with the help."""


@dataclass(frozen=True)
class PreferenceChange:
    """A change to the contact's alert settings; None leaves that setting as it is."""

    channels: tuple[Channel, ...] | None = None
    cadence: Cadence | None = None
    events: tuple[AlertEvent, ...] | None = None  # "only overdue"
    quiet_hours: tuple[time, time] | None = None  # start, end in the contact's time zone
    stop: bool = False  # "stop alerts"
    resume: bool = False  # "resume alerts"


@dataclass(frozen=True)
class Preferences:
    """"my notification settings" (change None) or a change to them."""

    change: PreferenceChange | None = None


@dataclass(frozen=True)
class AnswerIn:
    """"answer in German", "auf Englisch bitte", "réponds en français": the language the
    contact wants every answer, alert and digest in from now on (vault.answer_language)."""

    language: str  # a catalogue language of vault.i18n: en, de, fr, es, it, nl, pt


@dataclass(frozen=True)
class Unclear:
    text: str
    # Example phrasings that were close, as templates the reply fills from the contact's
    # account ("dispute {invoice} wrong quantity": see bot.answers.examples).
    suggestions: tuple[str, ...] = field(default=())


Command = (
    ListInvoices | ShowInvoice | Balance | Aging | Statement | Payments | Archive | Dispute
    | TalkToPerson | Help | Preferences | Thanks | ConnectChat | AnswerIn
)
