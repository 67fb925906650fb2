"""Outgoing mail: a Reply becomes a multipart text+HTML message to an address on file."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.messages import Reply
from bot.replies import reply_html, reply_text
from vault.timeutil import utcnow


def compose(
    reply: Reply,
    *,
    sender: str,
    recipient: str,
    in_reply_to: str = "",
    references: str = "",
    auto_reply: bool = True,
) -> EmailMessage:
    """A reply to `recipient`, threaded under the message it answers."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = reply.subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "invoicebot.local")
    if auto_reply:
        # RFC 3834: tells other robots not to answer us, and stops mail loops.
        msg["Auto-Submitted"] = "auto-replied"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = f"{references} {in_reply_to}".strip()
    msg.set_content(reply_text(reply))
    msg.add_alternative(reply_html(reply), subtype="html")
    return msg
