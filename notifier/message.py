"""One outgoing message, whatever the channel: what the outbox stores and every channel
renders. Pure.

Replies, notices, alerts, digests, AR digests and test alerts are all an `Outgoing`: a
title, sections of text (a heading with details, paragraphs, invoice rows, links, notes)
and what email needs besides (threading, unsubscribe, who it is from). The outbox stores
it as JSON (`dumps`/`loads`); each channel has one renderer in its own module: email in
notifier.email_send, Slack in bot.channels.slack_send, Telegram in
bot.channels.telegram_send. In chat, links become buttons (`chat_buttons`) and the text
carries no URLs.

Rows queued before this format hold what the old builders made: raw RFC 822 bytes for
email, {"text", "buttons"} JSON for chat. `loads` returns those bytes unchanged (a
`Legacy`), and the renderers deliver them as before (`legacy_chat` reads the chat shape).
Nothing writes that shape any more; the fallback can go once no such row is pending.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from vault.config import EmailConfig
from vault.i18n import SOURCE_LANGUAGE, Catalogue, catalogue
from vault.vocabulary import Channel, OutboxKind

FORMAT = 1  # the "outgoing" marker in a stored payload; old payloads have none
MAX_CHAT_BUTTONS = 10  # an alert or digest in chat links the first ones only


@dataclass(frozen=True)
class Link:
    """A link: inline in email, a button in chat. `note` says e.g. how long it works."""

    label: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class InvoiceRow:
    """One invoice in a listing, formatted for the contact; `link` is its PDF ("" none)."""

    number: str
    issued: str
    due: str
    amount: str
    status: str
    link: str = ""
    still_due: str = ""  # what is left to pay, when part of the amount was paid

    def amount_due(self, words: Catalogue) -> str:
        """The total, and what is still due of it: "€228.48 (€114.24 due)"."""
        if not self.still_due:
            return self.amount
        return words.gettext("{amount} ({still_due} due)").format(
            amount=self.amount, still_due=self.still_due)


@dataclass(frozen=True)
class Section:
    """A part of a message, drawn in this order. A section with `details` is a card (an
    alert, an AR item): its facts and links stand right under its heading."""

    heading: str = ""
    details: tuple[str, ...] = ()  # facts of the heading: "Amount: $10.00"
    text: tuple[str, ...] = ()  # paragraphs
    rows: tuple[InvoiceRow, ...] = ()
    links: tuple[Link, ...] = ()
    notes: tuple[str, ...] = ()  # bullet points
    after: tuple[str, ...] = ()  # closing paragraphs


@dataclass(frozen=True)
class MailHeaders:
    """What only email needs: who it is from, threading, and how to unsubscribe."""

    sender: str  # email.sender
    display_name: str = ""  # the From display name
    in_reply_to: str = ""  # the Message-ID a reply answers
    references: str = ""  # that message's own References
    unsubscribe_url: str = ""  # https one-click (RFC 8058): set for alerts and digests
    unsubscribe_mailto: str = ""  # the bot's address, for a "stop alerts" request
    auto_replied: bool = False  # RFC 3834: auto-replied (an answer), else auto-generated


def mail_from(email: EmailConfig, **headers: Any) -> MailHeaders:
    """The MailHeaders of every mail we send (replies, notices, alerts, digests, AR's
    digest): one sender, email.from, under one display name, the seller's."""
    return MailHeaders(sender=email.sender, display_name=email.sender_name, **headers)


@dataclass(frozen=True)
class Outgoing:
    """One message to one recipient on one channel, once per `key`.

    `contact_id` is the contact it is for (None: AR, or a notice to nobody on file).
    `message_id` and `queued_at` are set by the outbox when it stores the message, so
    every retry renders the same Message-ID and Date.
    """

    kind: OutboxKind
    channel: Channel
    recipient: str
    key: str
    title: str
    sections: tuple[Section, ...] = ()
    contact_id: int | None = None
    mail: MailHeaders | None = None
    message_id: str = ""
    queued_at: datetime | None = None
    # The language of its words (vault.i18n): the renderers write theirs ("issued",
    # "Download", "Open your account") in it. Rows queued before it existed read English.
    language: str = SOURCE_LANGUAGE

    @property
    def words(self) -> Catalogue:
        return catalogue(self.language, "messages")

    @property
    def title_in_body(self) -> bool:
        """Whether the body opens with the title (email has it as the subject anyway).
        Not when the message opens with a paragraph (its intro says it) or with a heading
        that is the title: no one reads the same line twice."""
        first = self.sections[0] if self.sections else Section()
        return first.heading != self.title if first.heading else not first.text

    def stamped(self, message_id: str, queued_at: datetime) -> Outgoing:
        return replace(self, message_id=message_id, queued_at=queued_at)


@dataclass(frozen=True)
class Legacy:
    """A payload queued before Outgoing existed, delivered as it is (see the module doc)."""

    payload: bytes = field(repr=False)


# ---- storage ---------------------------------------------------------------------------

def dumps(message: Outgoing) -> bytes:
    data = asdict(message)
    data["queued_at"] = message.queued_at.isoformat() if message.queued_at else None
    return json.dumps({"outgoing": FORMAT, **data}, ensure_ascii=False).encode("utf-8")


def loads(payload: bytes) -> Outgoing | Legacy:
    """The stored message; ValueError if it claims to be an Outgoing and is not one."""
    if not payload.startswith(b'{"outgoing"'):
        return Legacy(bytes(payload))
    try:
        return _outgoing(json.loads(payload.decode("utf-8")))
    except (KeyError, TypeError, AttributeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"outgoing payload: {type(exc).__name__}: {exc}") from exc


def _outgoing(data: dict[str, Any]) -> Outgoing:
    if data.pop("outgoing") != FORMAT:
        raise ValueError("outgoing payload: unknown format")
    mail, queued_at = data.pop("mail"), data.pop("queued_at")
    sections = tuple(_section(s) for s in data.pop("sections"))
    return Outgoing(
        **{**data, "kind": OutboxKind(data["kind"]), "channel": Channel(data["channel"])},
        sections=sections, mail=MailHeaders(**mail) if mail else None,
        queued_at=datetime.fromisoformat(queued_at) if queued_at else None,
    )


def _section(data: dict[str, Any]) -> Section:
    return Section(
        heading=data["heading"], details=tuple(data["details"]), text=tuple(data["text"]),
        rows=tuple(InvoiceRow(**row) for row in data["rows"]),
        links=tuple(Link(**link) for link in data["links"]),
        notes=tuple(data["notes"]), after=tuple(data["after"]),
    )


def legacy_chat(payload: bytes) -> tuple[str, list[dict[str, str]]]:
    """An old chat row's {"text", "buttons"} JSON; ValueError if it is not that shape."""
    message = json.loads(payload.decode("utf-8"))
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise ValueError("chat payload: expected a JSON object with a text string")
    buttons = message.get("buttons") or []
    if not isinstance(buttons, list) or not all(
        isinstance(b, dict) and isinstance(b.get("label"), str) and isinstance(b.get("url"), str)
        for b in buttons
    ):
        raise ValueError("chat payload: buttons must be a list of {label, url}")
    return message["text"], buttons


# ---- what every chat shows ---------------------------------------------------------------

def row_line(row: InvoiceRow, words: Catalogue) -> str:
    return words.gettext("{number} · issued {issued} · due {due} · {amount} · {status}").format(
        number=row.number, issued=row.issued, due=row.due, amount=row.amount_due(words),
        status=row.status)


def chat_buttons(message: Outgoing) -> tuple[list[Link], int]:
    """The message's links as chat buttons (a download per linked invoice row first, each
    URL once: a digest may tell two events of one invoice), and how many were left out:
    alerts and digests show MAX_CHAT_BUTTONS at most."""
    words = message.words
    links = [Link(words.gettext("Download {number}").format(number=row.number), row.link)
             for section in message.sections for row in section.rows if row.link]
    links += [link for section in message.sections for link in section.links]
    unique: dict[str, Link] = {}
    for link in links:
        unique.setdefault(link.url, link)
    links = list(unique.values())
    if not message.kind.is_alert or len(links) <= MAX_CHAT_BUTTONS:
        return links, 0
    return links[:MAX_CHAT_BUTTONS], len(links) - MAX_CHAT_BUTTONS


def more_note(left_out: int, words: Catalogue) -> str:
    return words.ngettext("(+{count} more: ask me for any invoice)",
                          "(+{count} more: ask me for any invoice)", left_out
                          ).format(count=left_out)


def chat_lines(section: Section, words: Catalogue) -> list[str]:
    """A section as plain chat lines, without its heading and without URLs."""
    lines = [f"  {detail}" for detail in section.details]
    lines += [*section.text, *(row_line(row, words) for row in section.rows)]
    lines += [f"• {note}" for note in section.notes]
    return lines + list(section.after)


def plain_text(message: Outgoing) -> str:
    """The whole message as plain chat text: a fallback and what tests read."""
    lines = [message.title] if message.title_in_body else []
    for section in message.sections:
        lines += [""] + ([section.heading] if section.heading else []) \
            + chat_lines(section, message.words)
    left_out = chat_buttons(message)[1]
    if left_out:
        lines.append(more_note(left_out, message.words))
    return "\n".join(lines).strip()
