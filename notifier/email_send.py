"""The email channel's renderer: an Outgoing becomes a text + HTML MIME message. Pure.

Both email transports (notifier.delivery's SmtpSender and MaildirSender) send what
`wire` makes of an outbox payload. Our headers:
- Message-ID and Date from the outbox row's stamp, so every retry is the same message;
- Auto-Submitted (RFC 3834): auto-replied for answers, auto-generated for the rest, so
  other robots do not answer us;
- In-Reply-To and References for a reply, built from message ids only;
- List-Unsubscribe (https one-click, and mailto) and List-Unsubscribe-Post (RFC 8058)
  when the message carries an unsubscribe URL (alerts, digests, test alerts).
"""

from __future__ import annotations

import hashlib
import re
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr
from html import escape
from urllib.parse import quote

from notifier.message import Legacy, Outgoing, Section, loads

# RFC 5322 allows 998 characters a line. At the default 78, a header holding a long URL
# (List-Unsubscribe) is RFC 2047-encoded, and mail clients no longer see the URL.
EMAIL_POLICY = default_policy.clone(max_line_length=998)
# A message id as it may appear in threading headers. What the inbound message said is
# not trusted: an encoded CR/LF, or any other text, is dropped rather than copied.
_MSG_ID = re.compile(r"<[^<>\s\"]{1,250}>")
MAX_REFERENCES = 20  # the newest ones; enough for any client to thread
SETTINGS_HINT = "Change how you are alerted: reply \"my notification settings\"."


def wire(payload: bytes) -> bytes:
    """The bytes to hand to a relay or a Maildir for one outbox payload."""
    message = loads(payload)
    if isinstance(message, Legacy):  # queued as RFC 822 bytes before Outgoing existed
        return message.payload
    return render(message).as_bytes()


def render(message: Outgoing) -> EmailMessage:
    mail = message.mail
    if mail is None or message.queued_at is None or not message.message_id:
        raise ValueError("an email needs its MailHeaders and the outbox's stamp")
    msg = EmailMessage(policy=EMAIL_POLICY)
    msg["From"] = formataddr((_one_line(mail.display_name), mail.sender)) \
        if mail.display_name else mail.sender
    msg["To"] = message.recipient
    msg["Subject"] = _one_line(message.title)
    msg["Date"] = format_datetime(message.queued_at)
    msg["Message-ID"] = f"<{message.message_id}>"
    msg["Auto-Submitted"] = "auto-replied" if mail.auto_replied else "auto-generated"
    parent = _MSG_ID.findall(mail.in_reply_to)[:1]
    if parent:
        msg["In-Reply-To"] = parent[0]
        msg["References"] = " ".join([*_MSG_ID.findall(mail.references), *parent]
                                     [-MAX_REFERENCES:])
    if mail.unsubscribe_url:
        targets = [f"<{mail.unsubscribe_url}>"]
        if mail.unsubscribe_mailto:
            targets.append(f"<mailto:{mail.unsubscribe_mailto}?subject={quote('stop alerts')}>")
        msg["List-Unsubscribe"] = ", ".join(targets)
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text(message))
    msg.add_alternative(html(message), subtype="html")
    # From the Message-ID, not random: a retry renders the very same bytes.
    msg.set_boundary("=_" + hashlib.sha256(message.message_id.encode()).hexdigest()[:32])
    return msg


def _one_line(value: str) -> str:
    return " ".join(value.split())


# ---- text -------------------------------------------------------------------------------

def text(message: Outgoing) -> str:
    blocks = [[message.title]] if message.title_in_body else []
    for section in message.sections:
        blocks += _text_blocks(section)
    if message.mail and message.mail.unsubscribe_url:
        blocks.append([SETTINGS_HINT, f"Stop these alerts: {message.mail.unsubscribe_url}"])
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"


def _text_blocks(section: Section) -> list[list[str]]:
    """Paragraphs. A card keeps its facts and links under its heading, indented."""
    links = [[f"{link.label}: {link.url}", *([f"({link.note})"] if link.note else [])]
             for link in section.links]
    if section.details:
        head = [section.heading] if section.heading else []
        facts = [*section.details, *(line for link in links for line in link)]
        head += [f"  {line}" for line in facts]
        blocks, links = [head], []
    else:
        title = section.heading
        blocks = [[title, "-" * min(72, len(title))]] if title else []
    rows: list[str] = []
    for row in section.rows:
        rows.append(f"{row.number}  issued {row.issued}  due {row.due}  {row.amount_due}  "
                    f"{row.status}")
        if row.link:
            rows.append(f"  {row.link}")
    blocks += [[paragraph] for paragraph in section.text]
    blocks += [rows, *links, [f"- {note}" for note in section.notes]]
    return blocks + [[paragraph] for paragraph in section.after]


# ---- HTML -------------------------------------------------------------------------------

_BODY = ("margin:0;padding:12px;background:#f4f5f7;font-family:-apple-system,'Segoe UI',"
         "Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1f2328")
_CARD = "max-width:640px;margin:0 auto;background:#fff;border-radius:8px;padding:18px 20px"
_BUTTON = ("display:inline-block;margin:4px 8px 4px 0;padding:8px 14px;border-radius:6px;"
           "background:#0b5cad;color:#fff;text-decoration:none;font-weight:600")
_CELL = "padding:8px 4px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top"
_SMALL = "font-size:13px;color:#57606a"
_P = "margin:0 0 12px"


def html(message: Outgoing) -> str:
    parts = [f'<h2 style="margin:0 0 12px;font-size:20px">{escape(message.title)}</h2>'
             ] if message.title_in_body else []
    for section in message.sections:
        parts += _html_parts(section)
    if message.mail and message.mail.unsubscribe_url:
        url = escape(message.mail.unsubscribe_url)
        parts.append(f'<p style="{_SMALL};margin-top:24px">{escape(SETTINGS_HINT)}<br>'
                     f'<a href="{url}" style="color:#57606a">Stop these alerts</a></p>')
    return ('<!DOCTYPE html><html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            f'<body style="{_BODY}"><div style="{_CARD}">' + "\n".join(parts)
            + "</div></body></html>")


def _html_parts(section: Section) -> list[str]:
    parts = []
    if section.heading:
        parts.append(f'<h3 style="margin:20px 0 6px;font-size:16px">'
                     f"{escape(section.heading)}</h3>")
    if section.details:
        parts.append('<ul style="margin:0 0 8px;padding-left:20px">'
                     + "".join(f"<li>{escape(d)}</li>" for d in section.details) + "</ul>")
    parts += [f'<p style="{_P}">{escape(paragraph)}</p>' for paragraph in section.text]
    if section.rows:
        parts.append(_table(section))
    for link in section.links:
        note = f'<br><span style="{_SMALL}">({escape(link.note)})</span>' if link.note else ""
        parts.append(f'<p style="{_P}"><a href="{escape(link.url)}" style="{_BUTTON}">'
                     f"{escape(link.label)}</a>{note}</p>")
    if section.notes:
        parts.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in section.notes) + "</ul>")
    return parts + [f'<p style="{_P}">{escape(paragraph)}</p>' for paragraph in section.after]


def _table(section: Section) -> str:
    """One row per invoice, two columns (what and when | how much and status), so it
    reads on a phone without scrolling sideways and needs no CSS media queries."""
    body = []
    for row in section.rows:
        pdf = (f'<br><a href="{escape(row.link)}" style="color:#0b5cad;font-weight:600">'
               "Download PDF</a>") if row.link else ""
        when = f"Issued {escape(row.issued)} · due {escape(row.due)}"
        body.append(
            f'<tr><td style="{_CELL}"><strong>{escape(row.number)}</strong><br>'
            f'<span style="{_SMALL}">{when}</span>{pdf}</td>'
            f'<td style="{_CELL};text-align:right;white-space:nowrap">'
            f'<strong>{escape(row.amount)}</strong><br>'
            + (f'<span style="{_SMALL}">{escape(row.still_due)} due</span><br>'
               if row.still_due else "") +
            f'<span style="{_SMALL}">{escape(row.status)}</span></td></tr>')
    return ('<table role="presentation" style="border-collapse:collapse;width:100%;'
            'margin:8px 0">' + "".join(body) + "</table>")
