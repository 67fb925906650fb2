"""A whole message (an email's subject and cleaned body, or a chat message) -> commands.

Every line that is a request becomes a command, in the order written; a line that is
several sentences is read sentence by sentence. Greetings, thanks, closings and lines not
understood are passed over; the same command asked twice (subject and body) is kept once,
and a bare "invoices" is dropped when the message also asks for something more precise.
Nothing understood at all gives one Unclear carrying the suggestions of every line.
"""

from __future__ import annotations

import re
from datetime import date

from bot.intents import Command, ListInvoices, Unclear
from bot.language.months import month_words
from bot.language.parse import read_line

MAX_LINES = 40
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
    if len(commands) > 1:
        commands = [c for c in commands if c != ListInvoices()] or commands
    return list(commands)


def _sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for line in text.splitlines()[:MAX_LINES]:
        sentences.extend(part for part in _split(line) if part.strip())
    return sentences


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
