"""What a person asked in an email: the subject and the lines they wrote for this message.

Cut, so an old request in the thread is never answered again and nothing else is read as
one: quoted history ("On ... wrote:", "> " lines, Outlook's "From: ... Sent: ..." block,
"-----Original Message-----", forwarded messages, and the same in German, French, Spanish,
Italian, Dutch and Portuguese), signatures ("-- ", "Sent from my iPhone", a closing such as
"Best regards" / "Mit freundlichen Grüßen" / "Cordialement" / "Saludos" and all after it)
and legal disclaimers ("This email and any attachments are confidential ..."). HTML-only
mail is read as text, its quote and signature blocks cut the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.message import EmailMessage
from html.parser import HTMLParser

from bot.language.smalltalk import CLOSING, THANKS
from bot.language.text import fold

MAX_LINES = 20
_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|res|fw|fwd|aw|wg|sv|vs|tr|rv|antw|r|rif|enc|doorst)\s*(\[\d+\])?\s*:\s*"
    r"|\[[^\]]{1,20}\]\s*)+", re.IGNORECASE)
_WROTE = r"(wrote|schrieb|a ecrit|escribio|ha scritto|schreef|escreveu)"
_ATTRIBUTION = re.compile(rf"^(on|am|le|el|il|op|em)\b.*\b{_WROTE}\b.*:\s*$")
_ATTRIBUTION_START = re.compile(r"^(on|am|le|el|il|op|em)\s.*\d")
_WROTE_END = re.compile(rf"^.*\b{_WROTE}\b.*:\s*$")
_SEPARATOR = re.compile(
    r"^(-{2,}|_{2,}|={2,})?\s*(original message|ursprungliche nachricht|message d.?origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|mensagem original|"
    r"forwarded message|weitergeleitete nachricht|message transfere|mensaje reenviado|"
    r"messaggio inoltrato|doorgestuurd bericht|mensagem encaminhada|"
    r"begin forwarded message)\s*:?\s*(-{2,}|_{2,}|={2,})?\s*$")
_RULE = re.compile(r"^(_{10,}|-{10,}|={10,})$")
_FROM_HEADER = re.compile(r"^(from|von|de|da|van)\s*:\s*\S")
_NEXT_HEADER = re.compile(
    r"^(sent|date|to|cc|subject|gesendet|datum|an|betreff|envoye|a|objet|enviado|enviado el|"
    r"fecha|para|asunto|inviato|data|oggetto|verzonden|aan|onderwerp|enviada em|assunto)"
    r"\s*:")
_SIGNATURE = re.compile(
    r"^(--\s*|-{2}\s.*|(sent|get outlook) (from|for) .*|von meinem .* gesendet|"
    r"gesendet von .*|envoye de mon .*|enviado desde mi .*|inviato da .*|"
    r"verzonden (vanaf|met) .*|enviado do meu .*)$")
_BARE_CLOSINGS = frozenset({"best", "cheers"})  # closings only when alone on their line


def _alternation(phrases: Iterable[str]) -> str:
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)


_CLOSING = re.compile(rf"^({_alternation(set(CLOSING) - _BARE_CLOSINGS)})\b[\s,.!]*"
                      r"([^\W\d_]+[\s.-]*){0,3}$"
                      rf"|^({_alternation(_BARE_CLOSINGS)})[\s,.!]*$")
_THANKS_SIGN_OFF = re.compile(rf"^({_alternation(THANKS)})\s*,\s*$")
_DISCLAIMER = re.compile(
    r"(confidential|privileged|vertraulich|confidentiel|confidencial|riservat|"
    r"vertrouwelijk|disclaimer|haftungsausschluss)")
_DISCLAIMER_SUBJECT = re.compile(r"(e.?mail|message|nachricht|mensaje|messaggio|bericht|"
                                 r"mensagem|attachment|anhang|piece|adjunto|allegat|bijlage|"
                                 r"anexo|notice|hinweis)")


def request_lines(msg: EmailMessage, *, with_subject: bool = True) -> list[str]:
    """The subject (without Re:/Fwd:/AW:/WG:/TR:) and the body lines written for this message.

    Without the subject for a reply to one of ours (bot.conversation): its subject is our
    own words, not a request."""
    lines = []
    subject = bare_subject(msg)
    if subject and with_subject:
        lines.append(subject)
    lines.extend(fresh_body_lines(body_text(msg), keep_thanks=not with_subject))
    return lines


def bare_subject(msg: EmailMessage) -> str:
    """The subject without reply and forward prefixes, its whitespace collapsed."""
    return " ".join(_SUBJECT_PREFIX.sub("", str(msg.get("Subject", "") or "")).split())


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


def fresh_body_lines(text: str, *, keep_thanks: bool = False) -> list[str]:
    """The lines before quoted history, a signature, a closing or a disclaimer; with
    `keep_thanks`, a reply that opens with "Thanks," keeps that line (it is all it says)."""
    raw = text.splitlines()
    lines: list[str] = []
    for index, line in enumerate(raw):
        line = line.strip()
        if _ends_fresh_text(line, fold(line).strip(), raw[index + 1:index + 4]):
            if keep_thanks and not lines and _THANKS_SIGN_OFF.match(fold(line).strip()):
                lines.append(line)
            break
        if line:
            lines.append(line)
        if len(lines) >= MAX_LINES:
            break
    return lines


def _ends_fresh_text(line: str, folded: str, following: list[str]) -> bool:
    if line.startswith(">") or _RULE.match(line) or _SIGNATURE.match(folded):
        return True
    if _ATTRIBUTION.match(folded) or _SEPARATOR.match(folded):
        return True
    next_folded = [fold(n).strip() for n in following]
    if _ATTRIBUTION_START.match(folded) and next_folded and _WROTE_END.match(next_folded[0]):
        return True  # "On Mon, 2 Mar 2026 at 10:00, Anna <a@x>" / "wrote:"
    if _FROM_HEADER.match(folded) and any(_NEXT_HEADER.match(n) for n in next_folded):
        return True
    if _CLOSING.match(folded) or _THANKS_SIGN_OFF.match(folded):
        return True
    return bool(_DISCLAIMER.search(folded) and _DISCLAIMER_SUBJECT.search(folded))


class _TextExtractor(HTMLParser):
    """HTML to text lines; quote blocks become "> " and signature blocks "-- ", so the
    plain-text rules above cut them."""

    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table", "hr"})
    _SKIP = frozenset({"style", "script", "head", "title"})
    _QUOTES = ("gmail_quote", "divrplyfwdmsg", "appendonsend", "moz-cite-prefix",
               "outlookmessageheader", "yahoo_quoted", "protonmail_quote")
    _SIGNATURES = ("gmail_signature", "moz-signature", "signature")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marks = " ".join(value or "" for name, value in attrs if name in {"class", "id"}).lower()
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "blockquote" or any(mark in marks for mark in self._QUOTES):
            self.parts.append("\n> ")  # quoted history in HTML mail: cut like "> " lines
        elif any(mark in marks for mark in self._SIGNATURES):
            self.parts.append("\n-- \n")
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return "".join(extractor.parts)
