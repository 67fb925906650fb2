"""A whole message (an email's subject and cleaned body, or a chat message) -> commands.

Every line that is a request becomes a command, in the order written; a line that is
several sentences is read sentence by sentence. Greetings, closings and lines not
understood are passed over; thanks and acknowledgements ("ok, thanks!") are one Thanks
when the message asks nothing else, and passed over when it does; the same command asked
twice (subject and body) is kept once, and a vaguer command yields to a more precise one
of the same kind ("Statement" in the subject, "statement Q1" in the body: only the latter).
Nothing understood at all gives one Unclear carrying the suggestions of every line.
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from datetime import date

from bot.intents import Archive, Command, ListInvoices, Thanks, Unclear
from bot.language.months import month_words
from bot.language.parse import read_line

MAX_LINES = 40
MAX_SENTENCES = 40
MAX_CHARS = 20_000
MAX_COMMANDS = 10
# A sentence ends at "?", "!" or "." before a capital, unless the word before the dot is
# an abbreviation or a month ("no. 1042", "Jan. 2026", "1. Quartal").
_SENTENCE_END = re.compile(r"(?<=[?!])\s+|(?<=[^\W\d_]{3}\.)\s+(?=[A-ZÄÖÜÉ])")
_ABBREVIATIONS = frozenset({"no.", "nr.", "inv.", "approx.", "ca.", "e.g.", "i.e.", "vs.",
                            "etc.", "bzw.", "z.b.", "inkl.", "incl.", "ref."})


def parse_request(text: str, today: date, locale: str = "en", *,
                  fiscal_year_start: int = 1) -> list[Command | Unclear]:
    """Every request in the message, each once, in order; [Unclear] if there is none."""
    commands: list[Command] = []
    suggestions: list[str] = []
    for sentence in _sentences(text[:MAX_CHARS]):
        for result in read_line(sentence, today, fiscal_year_start):
            if isinstance(result, Unclear):
                suggestions.extend(s for s in result.suggestions if s not in suggestions)
            elif result not in commands and len(commands) < MAX_COMMANDS:
                commands.append(result)
    if not commands:
        return [Unclear(text.strip(), tuple(suggestions[:4]))]
    if any(c != Thanks() for c in commands):  # "Thanks! And the March invoices?": March
        commands = [c for c in commands if c != Thanks()]
    return [c for c in commands if not any(_narrower(other, c) for other in commands)]


def _narrower(precise: Command, vague: Command) -> bool:
    """precise asks for what vague asks and more: "statement" yields to "statement Q1", a
    subject's "Invoices" to the body's "unpaid invoices", a listing to its ZIP."""
    if precise == vague:
        return False
    if vague == ListInvoices():
        return True
    if isinstance(vague, ListInvoices) and isinstance(precise, Archive):
        return _within(vague.filters, precise.filters)
    if type(precise) is not type(vague) or not is_dataclass(vague):
        return False
    return _within(vague, precise)


def _within(vague: object, precise: object) -> bool:
    """Every field vague sets, precise sets to the same value (nested filters included)."""
    for item in fields(vague):  # type: ignore[arg-type]
        mine, theirs = getattr(vague, item.name), getattr(precise, item.name)
        if is_dataclass(mine) and is_dataclass(theirs):
            if not _within(mine, theirs):
                return False
        elif mine not in (None, (), "", False) and mine != theirs:
            return False
    return True


def _sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for line in text.splitlines()[:MAX_LINES]:
        sentences.extend(part for part in _split(line) if part.strip())
    return sentences[:MAX_SENTENCES]


def _split(line: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(line):
        before = line[start:match.start()].split()
        last = before[-1].lower() if before else ""
        if last in _ABBREVIATIONS or last.rstrip(".") in month_words():
            continue
        parts.append(line[start:match.start()])
        start = match.end()
    parts.append(line[start:])
    return parts
