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
from dataclasses import dataclass
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr, getaddresses
from html import escape
from urllib.parse import quote

from notifier.message import Legacy, Outgoing, Section, loads
from vault.config import DEFAULT_ACCENT, SellerConfig
from vault.i18n import Catalogue


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, remembering the class it makes for each header name.
    The stock one makes a new class (`type(...)`) for every header set or read, a third of
    what rendering an alert cost; the classes it makes for one name are all alike."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


# RFC 5322 allows 998 characters a line. At the default 78, a header holding a long URL
# (List-Unsubscribe) is RFC 2047-encoded, and mail clients no longer see the URL.
EMAIL_POLICY = default_policy.clone(max_line_length=998, header_factory=_HeaderClasses())
# A message id as it may appear in threading headers. What the inbound message said is
# not trusted: an encoded CR/LF, or any other text, is dropped rather than copied.
_MSG_ID = re.compile(r"<[^<>\s\"]{1,250}>")
MAX_REFERENCES = 20  # the newest ones; enough for any client to thread


def wire(payload: bytes, brand: Brand | None = None) -> bytes:
    """The bytes to hand to a relay or a Maildir for one outbox payload."""
    return wire_from(payload, brand)[0]


def wire_from(payload: bytes, brand: Brand | None = None) -> tuple[bytes, str]:
    """wire()'s bytes and the address of their From, the envelope sender by default."""
    message = loads(payload)
    if isinstance(message, Legacy):  # queued as RFC 822 bytes before Outgoing existed
        headers = BytesHeaderParser(policy=default_policy).parsebytes(message.payload)
        addresses = getaddresses([str(headers.get("From", ""))])
        return message.payload, addresses[0][1] if addresses else ""
    sender = message.mail.sender if message.mail is not None else ""
    return render(message, brand or Brand()).as_bytes(), sender


def render(message: Outgoing, brand: Brand | None = None) -> EmailMessage:
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
    msg.add_alternative(html(message, brand or Brand()), subtype="html")
    # From the Message-ID, not random: a retry renders the very same bytes.
    msg.set_boundary("=_" + hashlib.sha256(message.message_id.encode()).hexdigest()[:32])
    msg["Content-Language"] = message.language  # RFC 3282; after the body (it resets them)
    return msg


def _one_line(value: str) -> str:
    return " ".join(value.split())


# ---- text -------------------------------------------------------------------------------

def text(message: Outgoing) -> str:
    words = message.words
    blocks = [[message.title]] if message.title_in_body else []
    for section in message.sections:
        blocks += _text_blocks(section, words)
    if message.mail and message.mail.unsubscribe_url:
        blocks.append([_settings_hint(words), words.gettext(
            "Stop these alerts: {url}").format(url=message.mail.unsubscribe_url)])
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"


def _settings_hint(words: Catalogue) -> str:
    """Under every alert and digest, in the message's language (Outgoing.language)."""
    return words.gettext('Change how you are alerted: reply "my notification settings".')


def _text_blocks(section: Section, words: Catalogue) -> list[list[str]]:
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
        rows.append(words.gettext("{number}  issued {issued}  due {due}  {amount}  {status}")
                    .format(number=row.number, issued=row.issued, due=row.due,
                            amount=row.amount_due(words), status=row.status))
        if row.link:
            rows.append(f"  {row.link}")
    blocks += [[paragraph] for paragraph in section.text]
    blocks += [rows, *links, [f"- {note}" for note in section.notes]]
    return blocks + [[paragraph] for paragraph in section.after]


# ---- HTML -------------------------------------------------------------------------------
#
# What mail clients keep: inline styles only (many drop <style> and never fetch a
# stylesheet), no external resources but the seller's own logo, and no media queries.
# Invoice rows are "fluid" blocks: each row's three parts are inline blocks of a fixed
# maximum width that sit side by side when there is room (a table on a wide screen) and
# take the full width one under the other when there is not (a list on a phone).
# Dark mode: every box that sets a background sets its text colour too, and the message
# declares itself light-only, so no client can put white text on our white card.

_INK, _MUTED, _LINE, _PAPER, _PAGE = "#1f2328", "#57606a", "#d8dee4", "#ffffff", "#f4f5f7"
_FONT = "-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"
_SMALL = f"font-size:13px;line-height:1.45;color:{_MUTED}"
_P = f"margin:0 0 12px;color:{_INK}"


@dataclass(frozen=True)
class Brand:
    """Who the mail is from, as the HTML shows it: [seller] name, logo_url, accent_color
    (vault.config validates them). Empty name: the From display name is shown."""

    name: str = ""
    logo_url: str = ""
    accent: str = DEFAULT_ACCENT

    @classmethod
    def of(cls, seller: SellerConfig) -> Brand:
        return cls(seller.name, seller.logo_url, seller.accent_color)


def html(message: Outgoing, brand: Brand = Brand()) -> str:
    accent, words = brand.accent, message.words
    parts = [f'<h2 style="margin:0 0 14px;font-size:20px;line-height:1.3;color:{_INK}">'
             f"{escape(message.title)}</h2>"] if message.title_in_body else []
    for section in message.sections:
        parts += _html_parts(section, accent, words)
    if message.mail and message.mail.unsubscribe_url:
        url = escape(message.mail.unsubscribe_url)
        parts.append(f'<p style="{_SMALL};margin:24px 0 0">'
                     f'{escape(_settings_hint(words))}<br><a href="{url}" '
                     f'style="color:{_MUTED}">{escape(words.gettext("Stop these alerts"))}'
                     '</a></p>')
    name = brand.name or (message.mail.display_name if message.mail else "")
    return (
        f'<!DOCTYPE html><html lang="{escape(message.language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light">'
        '<meta name="supported-color-schemes" content="light">'
        "</head>"
        f'<body style="margin:0;padding:0;background:{_PAGE};color:{_INK}">'
        f'<div style="background:{_PAGE};color:{_INK};padding:12px 8px;font-family:{_FONT};'
        'font-size:15px;line-height:1.5">'
        f'<div style="max-width:640px;margin:0 auto;background:{_PAPER};color:{_INK};'
        f'border-radius:8px;border-top:4px solid {accent};overflow:hidden">'
        + _header(name, brand.logo_url)
        + '<div style="padding:16px 18px 20px">' + "\n".join(parts) + "</div>"
        + "</div></div></body></html>"
    )


def _header(name: str, logo_url: str) -> str:
    if not name and not logo_url:
        return ""
    logo = (f'<img src="{escape(logo_url)}" alt="" height="32" style="display:inline-block;'
            'vertical-align:middle;max-height:32px;max-width:160px;border:0;margin:0 10px 0 0">'
            if logo_url else "")
    title = (f'<span style="vertical-align:middle;font-size:16px;font-weight:700;'
             f'color:{_INK}">{escape(name)}</span>' if name else "")
    return (f'<div style="padding:14px 18px 12px;border-bottom:1px solid {_LINE};'
            f'background:{_PAPER};color:{_INK}">{logo}{title}</div>')


def _html_parts(section: Section, accent: str, words: Catalogue) -> list[str]:
    parts = []
    if section.heading:
        parts.append(f'<h3 style="margin:18px 0 6px;font-size:16px;color:{_INK}">'
                     f"{escape(section.heading)}</h3>")
    if section.details:
        parts.append(f'<ul style="margin:0 0 10px;padding-left:20px;color:{_INK}">'
                     + "".join(f"<li>{escape(d)}</li>" for d in section.details) + "</ul>")
    parts += [f'<p style="{_P}">{escape(paragraph)}</p>' for paragraph in section.text]
    if section.rows:
        parts.append(_rows(section, accent, words))
    button = (f"display:inline-block;margin:4px 8px 4px 0;padding:9px 16px;border-radius:6px;"
              f"background:{accent};color:#ffffff;text-decoration:none;font-weight:600")
    for link in section.links:
        note = f'<br><span style="{_SMALL}">({escape(link.note)})</span>' if link.note else ""
        parts.append(f'<p style="{_P}"><a href="{escape(link.url)}" style="{button}">'
                     f"{escape(link.label)}</a>{note}</p>")
    if section.notes:
        parts.append(f'<ul style="margin:0 0 12px;padding-left:20px;color:{_INK}">'
                     + "".join(f"<li>{escape(n)}</li>" for n in section.notes) + "</ul>")
    return parts + [f'<p style="{_P}">{escape(paragraph)}</p>' for paragraph in section.after]


def _rows(section: Section, accent: str, words: Catalogue) -> str:
    """One block per invoice: number and dates | amount and status | its PDF. The three
    fit side by side in the 604 px of a wide card and stack below about 560 px."""
    cell = "display:inline-block;vertical-align:top;width:100%;font-size:15px;"
    out = []
    for row in section.rows:
        pdf = (f'<a href="{escape(row.link)}" style="color:{accent};font-weight:600;'
               f'white-space:nowrap">{escape(words.gettext("Download PDF"))}</a>') \
            if row.link else ""
        dates = words.gettext("Issued {issued} · due {due}").format(issued=row.issued,
                                                                     due=row.due)
        still_due = words.gettext("{still_due} due").format(still_due=row.still_due)
        out.append(
            # font-size:0 removes the gaps between inline blocks; each block resets it
            f'<div style="font-size:0;padding:9px 0;border-bottom:1px solid {_LINE}">'
            f'<div style="{cell}max-width:300px">'
            f'<strong style="white-space:nowrap;color:{_INK}">{escape(row.number)}</strong>'
            f'<br><span style="{_SMALL}">{escape(dates)}</span></div>'
            f'<div style="{cell}max-width:170px">'
            f'<strong style="white-space:nowrap;color:{_INK}">{escape(row.amount)}</strong>'
            + (f'<br><span style="{_SMALL}">{escape(still_due)}</span>'
               if row.still_due else "") +
            f'<br><span style="{_SMALL}">{escape(row.status)}</span></div>'
            f'<div style="{cell}max-width:130px;padding-top:2px">{pdf}</div></div>')
    return f'<div style="margin:8px 0 14px;border-top:1px solid {_LINE}">{"".join(out)}</div>'
