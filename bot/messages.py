"""Platform-neutral messages: every channel turns its input into a Request and renders a
Reply. Nothing here knows SMTP, Slack or Telegram."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from vault.i18n import SOURCE_LANGUAGE, Catalogue


@dataclass(frozen=True)
class Request:
    """One question from someone, as the channel established it.

    `address` is the contact key the channel vouches for (an email address on the email
    path); `authenticated` says whether the channel proved the sender owns it.
    """

    channel: str  # email, cli, slack, telegram
    address: str
    text: str
    authenticated: bool
    received_at: datetime
    reference: str = ""  # e.g. the inbound message id, for audit and idempotency

    def __post_init__(self) -> None:
        # What people write ends up in escalations, disputes and audit rows; PostgreSQL
        # text cannot hold NUL and no channel means other control characters.
        object.__setattr__(self, "text", printable(self.text))


_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r") | {0x7F: None}


def printable(text: str) -> str:
    """`text` without control characters (tab, newline and carriage return stay)."""
    return text.translate(_CONTROL)


@dataclass(frozen=True)
class Link:
    label: str  # e.g. "INV-2026-0042"
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class ListingRow:
    """One row of a listing, already formatted for the contact's locale."""

    number: str
    issue_date: str
    due_date: str
    amount: str
    status: str
    link: Link | None
    still_due: str = ""  # what is left to pay, when part of the amount was paid

    def amount_due(self, words: Catalogue) -> str:
        """The total, and what is still due of it: "€228.48 (€114.24 due)"."""
        if not self.still_due:
            return self.amount
        return words.gettext("{amount} ({still_due} due)").format(
            amount=self.amount, still_due=self.still_due)


@dataclass(frozen=True)
class Reply:
    """What the contact gets back: a subject, a text body, and listed invoices.

    A message with several requests gets ONE Reply whose `sections` hold one Reply per
    request, in the order asked. Its own rows, links and notes then repeat everything in
    the sections, flattened (each section's subject and intro become a note before its
    notes), so a renderer that knows nothing of sections still shows every invoice and
    link; renderers that know them (reply_text, bot.outgoing) draw the sections instead.
    """

    subject: str
    intro: str
    rows: tuple[ListingRow, ...] = ()
    outro: str = ""
    # Links not tied to a listed invoice: a statement PDF, a ZIP of many invoices.
    links: tuple[Link, ...] = ()
    links_expire: str = ""  # formatted expiry shown once under the listing
    deliver: bool = True  # False: say nothing (auto-replies, bulk mail)
    notes: tuple[str, ...] = field(default=())
    sections: tuple[Reply, ...] = ()  # one per request when a message asked several
    # Chat platforms the contact asked to connect ("connect telegram"): only then does an
    # email reply carry one-click linking offers.
    chat_offers: tuple[str, ...] = ()
    # The language of its words (vault.i18n), for the words a renderer adds ("issued",
    # "Links expire"): set by the pipeline from the contact's answer language.
    language: str = SOURCE_LANGUAGE

    def as_text(self) -> str:
        from bot.replies import reply_text

        return reply_text(self)
