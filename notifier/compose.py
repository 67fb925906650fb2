"""What an alert says, and how it is written for email and for chat. Pure.

An alert tells what happened, the amount and the due date, and carries a signed link (a
grant to that contact) to the document. Email alerts carry a one-click unsubscribe
(RFC 8058: List-Unsubscribe with an https URL, List-Unsubscribe-Post). Chat payloads are
UTF-8 JSON {"text": ..., "buttons": [{"label": ..., "url": ...}]}, which the Slack and
Telegram senders deliver as they are.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr, make_msgid
from html import escape
from urllib.parse import quote

from vault.formats import Formats
from vault.models import Invoice, InvoiceEvent
from vault.vocabulary import EventKind, InvoiceStatus

MAX_CHAT_BUTTONS = 10  # a digest in chat links the first ones; the rest say "ask the bot"
# RFC 5322 allows 998 characters a line. At the default 78, a header holding a long URL
# (List-Unsubscribe) is RFC 2047-encoded, and mail clients no longer see the URL.
EMAIL_POLICY = default_policy.clone(max_line_length=998)


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
    else:
        headline = f"Invoice {number}: {event.kind}"
    open_amount = fmt.money(invoice.total - invoice.amount_paid, invoice.currency)
    details = (f"Amount: {total} (open: {open_amount})", f"Due date: {due}", f"Status: {status}")
    return Alert(headline, details, link)


# ---- email ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Envelope:
    """Who an email alert is from and to, and how to unsubscribe."""

    sender: str  # email.from
    seller: str  # seller.name, the From display name
    recipient: str
    unsubscribe_url: str  # https one-click (RFC 8058)
    unsubscribe_mailto: str = ""  # the bot's address: a "stop alerts" request


def email_message(env: Envelope, subject: str, intro: str, alerts: Sequence[Alert]) -> EmailMessage:
    """A text+HTML alert or digest email with its unsubscribe headers and a Message-ID
    (the outbox stores it, so every retry carries the same one)."""
    msg = EmailMessage(policy=EMAIL_POLICY)
    msg["From"] = formataddr((env.seller, env.sender))
    msg["To"] = env.recipient
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = make_msgid(domain=env.sender.rpartition("@")[2] or "invoicebot.local")
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: robots must not answer
    targets = [f"<{env.unsubscribe_url}>"]
    if env.unsubscribe_mailto:
        targets.append(f"<mailto:{env.unsubscribe_mailto}?subject={quote('stop alerts')}>")
    msg["List-Unsubscribe"] = ", ".join(targets)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(_text(intro, alerts, env.unsubscribe_url))
    msg.add_alternative(_html(intro, alerts, env.unsubscribe_url), subtype="html")
    return msg


def _text(intro: str, alerts: Sequence[Alert], unsubscribe_url: str) -> str:
    lines = [intro, ""]
    for alert in alerts:
        lines.append(alert.headline)
        lines += [f"  {d}" for d in alert.details]
        if alert.link:
            lines.append(f"  {alert.link.label}: {alert.link.url}")
            lines.append(f"  (link valid until {alert.link.expires})")
        lines.append("")
    lines += ["Change how you are alerted: reply \"my notification settings\".",
              f"Stop these alerts: {unsubscribe_url}"]
    return "\n".join(lines) + "\n"


def _html(intro: str, alerts: Sequence[Alert], unsubscribe_url: str) -> str:
    parts = [f"<p>{escape(intro)}</p>"]
    for alert in alerts:
        items = "".join(f"<li>{escape(d)}</li>" for d in alert.details)
        parts.append(f"<h3>{escape(alert.headline)}</h3><ul>{items}</ul>")
        if alert.link:
            parts.append(f'<p><a href="{escape(alert.link.url)}">{escape(alert.link.label)}</a>'
                         f" (valid until {escape(alert.link.expires)})</p>")
    parts.append(f'<p style="font-size:small"><a href="{escape(unsubscribe_url)}">'
                 "Stop these alerts</a></p>")
    return "<html><body>" + "\n".join(parts) + "</body></html>"


# ---- chat -------------------------------------------------------------------------------

def chat_payload(intro: str, alerts: Sequence[Alert]) -> bytes:
    """{"text", "buttons"} as UTF-8 JSON: one button per linked document (capped)."""
    lines = [intro] if intro else []
    for alert in alerts:
        lines.append(alert.headline)
        lines += [f"  {d}" for d in alert.details]
    linked = [a.link for a in alerts if a.link is not None]
    buttons = [{"label": f"Download {link.label}", "url": link.url}
               for link in linked[:MAX_CHAT_BUTTONS]]
    if len(linked) > MAX_CHAT_BUTTONS:
        lines.append(f"(+{len(linked) - MAX_CHAT_BUTTONS} more: ask me for any invoice)")
    return json.dumps({"text": "\n".join(lines), "buttons": buttons},
                      ensure_ascii=False).encode("utf-8")
