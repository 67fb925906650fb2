"""The billing entity a request names, kept as written ("Acme Freight GmbH").

Matching it against the account's entities is the account-scoped layer's job; here we
only find it, and only where it is plainly a name:
- after "entity" ("for entity Acme Freight", "billing entity: Acme Logistics"), any words;
- after "from" / "von" / "de" / "van" ...: capitalised words ("from Acme Freight GmbH");
- after "for" / "für" / "pour" ...: capitalised words with a legal form or at least two
  of them ("for Acme Freight", "for Acme GmbH"), since "for Anna" is more likely a person;
- anywhere but the line's first word, the same: "overdue invoices ACME Logistics". A
  name alone is no request: the parser wants another clue on the line.
The name ends at punctuation, at a word in lower case (legal forms and "&" / "and" inside
a name excepted) or at anything already understood (a month, a number).
"""

from __future__ import annotations

import re

from bot.language.text import Scan

LEGAL_FORMS = frozenset(re.findall(r"\S+", """gmbh ag kg ohg ug ltd limited inc incorporated
llc llp plc corp corporation co company sa sas sarl sl slu srl spa bv nv oy aps lda ltda kft
"""))
CONNECTORS = frozenset({"&", "and", "und", "et", "y", "e", "en", "+", "-", "of"})
_EXPLICIT = re.compile(r"(?<!\w)(?:billing\s+|legal\s+)?(?:entity|entitat|entite|entidad|entita|"
                       r"entiteit|entidade|gesellschaft)\s*:?\s+")
_FROM = re.compile(r"(?<!\w)(?:from|von|vom|de|da|van)\s+")
_FOR = re.compile(r"(?<!\w)(?:for|fur|pour|para|per|voor)\s+")
_TOKEN = re.compile(r"\s*([\w&+.'-]+)")
MAX_WORDS = 6
MAX_BARE = 40  # words looked at for an unmarked name: bounds the work on long lines
_CAPITALISED = re.compile(r"(?<![\w\x00])[^\W\d_][\w&.'-]*")


def read_entity(scan: Scan, known: frozenset[str]) -> str | None:
    for pattern, rule in ((_EXPLICIT, "any"), (_FROM, "one"), (_FOR, "two")):
        for match in list(scan.find(pattern)):
            name = _name(scan, match.end(), known, rule)
            if name is not None:
                return name
    for word in list(_CAPITALISED.finditer(scan.text))[1:MAX_BARE]:
        if scan.as_written(word.start(), word.end())[:1].isupper():
            name = _name(scan, word.start(), known, "two")
            if name is not None:
                return name
    return None


def _name(scan: Scan, start: int, known: frozenset[str], rule: str) -> str | None:
    """The name starting at folded position start, masked if it qualifies."""
    words: list[tuple[int, int, str]] = []
    position = start
    while len(words) < MAX_WORDS and (token := _TOKEN.match(scan.text, position)) is not None:
        written = scan.as_written(token.start(1), token.end(1))
        if not _belongs(token[1], written, known, rule, first=not words):
            break
        words.append((token.start(1), token.end(1), token[1]))
        position = token.end()
    while words and words[-1][2] in CONNECTORS:
        words.pop()
    if not words or not _qualifies([w[2] for w in words], rule):
        return None
    name = scan.as_written(words[0][0], words[-1][1]).rstrip(".,;:")
    scan.mask(words[0][0], words[-1][1])
    return name or None


def _belongs(folded: str, written: str, known: frozenset[str], rule: str, first: bool) -> bool:
    bare = folded.strip(".")
    if bare in CONNECTORS:
        return not first
    if bare in LEGAL_FORMS:
        return not first and (rule == "any" or written[:1].isupper())
    if bare in known or bare.isdigit():
        return False
    return rule == "any" or written[:1].isupper()


def _qualifies(words: list[str], rule: str) -> bool:
    if rule != "two":
        return True
    names = [w for w in words if w not in CONNECTORS]
    return len(names) >= 2 or any(w.strip(".") in LEGAL_FORMS for w in words)
