"""Month names in the seven languages we read, from Babel's locale data (never hand-typed).

Wide and abbreviated names, format and stand-alone contexts, folded like the request text
("März" -> "marz", "févr." -> "fevr"). A few of them are everyday words too: English "may"
is a verb, Portuguese/Italian "set" and Portuguese "out" are English words, "ago" ends
"two weeks ago", Portuguese "março" folds to the name Marco. Those are WEAK: they mean a
month only when the line makes it a period (see periods.py: a year or a day next to them,
a range, or a period preposition or an invoice word right before or after).
"""

from __future__ import annotations

from functools import lru_cache

from babel.dates import get_month_names

from bot.language.text import fold

LOCALES = ("en", "de", "fr", "es", "it", "nl", "pt")
# Month names that are also common words in one of the languages we read.
WEAK = frozenset({"may", "set", "out", "ago", "mag", "gen", "lug", "marco"})


@lru_cache(maxsize=1)
def month_words() -> dict[str, int]:
    """Folded month name or abbreviation -> month number."""
    words: dict[str, int] = {}
    for locale in LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                names = get_month_names(width, context, locale)
                for number, name in names.items():
                    words.setdefault(fold(name).rstrip("."), number)
    return words


@lru_cache(maxsize=1)
def month_alternation() -> str:
    """A regex alternation of every month word, longest first (so "marzo" beats "mar")."""
    return "|".join(sorted(month_words(), key=lambda word: (-len(word), word)))
