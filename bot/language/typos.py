"""Typo tolerance: "invocies", "Marhc", "unapid", "statment", "overdeu", "Febuary".

Conservative on purpose: only a word of at least 5 letters that is not itself a known word
is corrected, only to a vocabulary word of at least 5 letters with the same first letter,
and only within an edit distance (optimal string alignment: a swap of two neighbouring
letters is one edit) of 1 for words up to 7 letters and 2 from 8 letters on. Numbers are
never touched. Words one step further away are not corrected but reported as near misses,
so an Unclear answer can suggest phrasings ("Did you mean ...").
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.language import due, prefs, relative, statuses, vocabulary
from bot.language.months import month_words
from bot.language.patterns import words_of
from bot.language.smalltalk import CLOSING, FILLER, GREETING, THANKS
from bot.language.text import Scan

# Everyday words one or two letters away from a vocabulary word, which must stay as they
# are ("match" is not "march", "later" is not "late", "offer" is not "offen").
PROTECTED = frozenset(re.findall(r"\S+", """match matches marsh march marco maria marie mario
julia julie julian junior mayor maybe mayday later offer offers order orders ordered ordering
said sales sale states stated statue status stamp starts start started state agents agency
urgent human humans person persons prison posted pasted party parties bills billing pages
aging again agent balanced palace payee payer player prayer months mouth youth
dated dates debts debit credit credits voice voices invite invited involve involved
inventory notice notices noted notes alerted allergy digits digital digging quarterly
quaker daily dairy dally weekly weekend dispatch display dispose disposal impute
zipper ziploc statements stateless states overdo overdone overview overlap opened opens
opener option options offen offers often offset payout payouts yearly early nearly
""")) | FILLER
CONCEPTS: dict[str, tuple[str, ...]] = {
    "invoices": vocabulary.INVOICE_ONE + vocabulary.INVOICE_MANY,
    "statement": vocabulary.STATEMENT,
    "balance": vocabulary.BALANCE,
    "aging": vocabulary.AGING,
    "payments": vocabulary.PAYMENTS,
    "archive": vocabulary.ARCHIVE,
    "dispute": vocabulary.DISPUTE,
    "talk": vocabulary.TALK,
    "status": (statuses.PARTIAL + statuses.NOT_PAID + statuses.OVERDUE_WORDS + statuses.DISPUTED
               + statuses.VOID + statuses.PAID + statuses.UNPAID_WORDS),
    "alerts": prefs.CONTEXT + prefs.STOP + prefs.RESUME,
    "period": tuple(w for words in relative.UNITS.values() for w in words) + relative.LAST
    + relative.THIS + relative.FISCAL + relative.NEXT + relative.NEXT_N + due.MANY_WORDS,
    "due": due.DUE + due.WEAK + due.WITH_PERIOD_ONLY + due.TODAY + due.TOMORROW + due.MONTH_END,
}


@lru_cache(maxsize=1)
def vocabulary_words() -> dict[str, str]:
    """Every vocabulary word -> its concept ("month" for month names)."""
    table = {word: "month" for word in month_words()}
    for concept, phrases in CONCEPTS.items():
        for word in words_of(*phrases):
            table.setdefault(word, concept)
    return table


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """Words that are never corrected and never taken for a name or an invoice prefix."""
    extra = words_of(*GREETING, *THANKS, *CLOSING, *vocabulary.HELP, *vocabulary.WRONG,
                     *vocabulary.LATEST, *due.CONNECT)
    return frozenset(vocabulary_words()) | PROTECTED | extra


@lru_cache(maxsize=1)
def _targets() -> dict[str, tuple[str, ...]]:
    by_letter: dict[str, list[str]] = {}
    for word in sorted(vocabulary_words(), key=lambda w: (-len(w), w)):  # ties: the longer
        if len(word) >= 5:
            by_letter.setdefault(word[0], []).append(word)
    return {letter: tuple(words) for letter, words in by_letter.items()}


_WORD = re.compile(r"(?<![\w\x00])[^\W\d_]{5,}(?![\w\x00])")
MAX_WORDS = 60  # bounds the work on a long line


def correct(scan: Scan) -> set[str]:
    """Correct misspelt vocabulary words in place; return the concepts of near misses."""
    near: set[str] = set()
    known, targets = known_words(), _targets()
    words = list(_WORD.finditer(scan.text))[:MAX_WORDS]
    for match in reversed(words):  # right to left, so earlier positions stay valid
        word = match[0]
        if word in known or word[0] not in targets:
            continue
        limit = 1 if len(word) <= 7 else 2
        best = process.extractOne(word, targets[word[0]], scorer=OSA.distance,
                                  score_cutoff=limit + 1)
        if best is None:
            continue
        if best[1] <= limit:
            scan.replace(match.start(), match.end(), best[0])
        else:
            near.add(vocabulary_words()[best[0]])
    return near
