"""What a person asked in an email: the subject and the first lines they wrote.

Quoted history ("On ... wrote:", "> ", Outlook's "From: ... Sent: ..." block), signatures
and forwarded originals are cut, so an old request in the thread is never answered again.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from html.parser import HTMLParser

MAX_LINES = 20
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs|tr|rv)\s*(\[\d+\])?\s*:\s*)+", re.I)
_QUOTE_STARTS = (
    re.compile(r"^on\b.+\bwrote:\s*$", re.I),  # Gmail, Apple Mail
    re.compile(r"^am\b.+\bschrieb\b.*:\s*$", re.I),  # German clients
    re.compile(r"^le\b.+\ba écrit\s*:\s*$", re.I),
    re.compile(r"^-{2,}\s*(original message|ursprüngliche nachricht|forwarded message)", re.I),
    re.compile(r"^(from|von|de):\s.+$", re.I),  # Outlook's header block
    re.compile(r"^_{10,}\s*$"),  # Outlook's separator line
)
_SIGNATURE = re.compile(r"^(--\s*|—\s*|sent from my \w+.*)$", re.I)


def request_lines(msg: EmailMessage) -> list[str]:
    """The subject (without Re:/Fwd:) and the body lines written for this message."""
    lines = []
    subject = _SUBJECT_PREFIX.sub("", str(msg.get("Subject", "") or "")).strip()
    if subject:
        lines.append(subject)
    lines.extend(fresh_body_lines(body_text(msg)))
    return lines


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, ValueError):  # unknown charset, broken transfer encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if part.get_content_subtype() == "html":
        return html_to_text(str(content))
    return str(content)


def fresh_body_lines(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(">") or _SIGNATURE.match(line):
            break
        if any(pattern.match(line) for pattern in _QUOTE_STARTS):
            break
        if line:
            lines.append(line)
        if len(lines) >= MAX_LINES:
            break
    return lines


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "blockquote"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"style", "script", "head"}:
            self._skip += 1
        elif tag == "blockquote":
            self.parts.append("\n> ")  # quoted history in HTML mail: cut like "> " lines
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"style", "script", "head"} and self._skip:
            self._skip -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    return "".join(extractor.parts)
