"""Building word patterns from folded phrases, so the vocabulary tables stay plain lists."""

from __future__ import annotations

import re


def phrase_body(*phrases: str) -> str:
    """An alternation of folded phrases, longest first; a space or dash matches either."""
    ordered = sorted(set(phrases), key=lambda p: (-len(p), p))
    parts = []
    for phrase in ordered:
        escaped = re.escape(phrase).replace(r"\ ", r"[\s'-]+").replace(r"\-", r"[\s-]*")
        parts.append(escaped)
    return "|".join(parts)


def phrases(*alternatives: str) -> re.Pattern[str]:
    """Whole words or phrases: never inside a longer word ("paid" is not in "unpaid")."""
    return re.compile(rf"(?<!\w)(?:{phrase_body(*alternatives)})(?!\w)")


def words_of(*alternatives: str) -> frozenset[str]:
    """The single words a table uses (the typo corrector's vocabulary)."""
    return frozenset(word for phrase in alternatives for word in re.findall(r"[a-z]+", phrase))
