"""One request line being read: folded for matching, with what is understood masked out.

Matching runs on a folded copy of the line (case-folded, accents stripped, dashes and
quotes unified, so "MÄRZ", "März" and "marz" read alike). Every folded character remembers
the position of the character it came from, so a recognizer can hand back the contact's own
words ("Acme Freight GmbH", a dispute reason) exactly as written. A recognizer that
understands a span masks it with NUL characters, so later recognizers cannot read the same
words twice ("INV-2026-0042" is never also the year 2026).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

MASK = "\x00"
_UNIFY = {"’": "'", "‘": "'", "´": "'", "`": "'", "–": "-", "—": "-", "‐": "-", "−": "-",
          "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\t": " ", MASK: " "}


@lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    """The folded form of one character (may be "" or several characters: "ß" -> "ss")."""
    if ch in _UNIFY:
        return _UNIFY[ch]
    decomposed = unicodedata.normalize("NFKD", ch.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    return "".join(fold_char(ch) for ch in text)


class Scan:
    """The folded line plus a map back to the written line; recognizers mask what they use."""

    def __init__(self, written: str) -> None:
        self.written = written
        chars: list[str] = []
        origin: list[int] = []
        for position, ch in enumerate(written):
            folded = fold_char(ch)
            chars.append(folded)
            origin.extend([position] * len(folded))
        self.text = "".join(chars)
        self.origin = origin

    def find(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        """Matches on the text as it is now (masked spans never match a word)."""
        return pattern.finditer(self.text)

    def take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        """Every match, masked so nothing else reads it."""
        found = list(pattern.finditer(self.text))
        for match in found:
            self.mask(match.start(), match.end())
        return found

    def take_first(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        match = pattern.search(self.text)
        if match is not None:
            self.mask(match.start(), match.end())
        return match

    def mask(self, start: int, end: int) -> None:
        self.text = self.text[:start] + MASK * (end - start) + self.text[end:]

    def replace(self, start: int, end: int, word: str) -> None:
        """Put a corrected word in place of a misspelt one (its origin: the misspelt one)."""
        first = self.origin[start] if start < len(self.origin) else len(self.written)
        self.text = self.text[:start] + word + self.text[end:]
        self.origin = self.origin[:start] + [first] * len(word) + self.origin[end:]

    def as_written(self, start: int, end: int) -> str:
        """The contact's own characters behind folded positions start..end."""
        if start >= end or start >= len(self.origin):
            return ""
        return self.written[self.origin[start]:self.origin[end - 1] + 1]

    def after(self, end: int) -> str:
        """Everything the contact wrote after folded position end."""
        if end <= 0:
            return self.written
        if end >= len(self.origin):
            return ""
        return self.written[self.origin[end - 1] + 1:]

    def words(self) -> list[str]:
        """The words not yet understood."""
        return _WORD.findall(self.text)


_WORD = re.compile(r"[^\W\d_]+")
