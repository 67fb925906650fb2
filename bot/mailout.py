"""Outgoing mail: a Reply becomes a multipart text+HTML message to an address on file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from html import escape

from bot.messages import Link, Reply
from bot.replies import reply_html, reply_text


def compose(
    reply: Reply,
    *,
    sender: str,
    recipient: str,
    now: datetime,
    in_reply_to: str = "",
    references: str = "",
    auto_reply: bool = True,
    offers: Sequence[Link] = (),
) -> EmailMessage:
    """A reply to `recipient`, threaded under the message it answers; `offers` are
    one-click links to ask in a chat instead (Telegram deep link, Slack sign-in page)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = reply.subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "invoicebot.local")
    if auto_reply:
        # RFC 3834: tells other robots not to answer us, and stops mail loops.
        msg["Auto-Submitted"] = "auto-replied"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = f"{references} {in_reply_to}".strip()
    msg.set_content(reply_text(reply) + _offers_text(offers))
    msg.add_alternative(reply_html(reply).replace("</body>", _offers_html(offers) + "</body>"),
                        subtype="html")
    return msg


_OFFER_INTRO = "Prefer chat? Link your chat account in one click and ask us there:"


def _offers_text(offers: Sequence[Link]) -> str:
    if not offers:
        return ""
    return "\n" + "\n".join([_OFFER_INTRO, *(f"{o.label}: {o.url}" for o in offers)]) + "\n"


def _offers_html(offers: Sequence[Link]) -> str:
    if not offers:
        return ""
    items = "".join(f'<li><a href="{escape(o.url)}">{escape(o.label)}</a></li>' for o in offers)
    return f"<p>{escape(_OFFER_INTRO)}</p><ul>{items}</ul>"
