"""The command language's entry points: parse(line) and parse_request(message). Pure.

parse(text, today, locale, fiscal_year_start=...) reads one request line into a Command or
Unclear; parse_request reads a whole message (subject and body lines, or a chat message)
into every command it asks for. Neither does I/O or raises; both bound their work on long
input. The rules (periods, numbers, amounts, typos, ambiguity) are documented in the
modules of bot.language.
"""

from __future__ import annotations

from datetime import date

from bot.intents import Command, Help, ListInvoices, Period, ShowInvoice, Unclear
from bot.language.parse import read_line
from bot.language.request import parse_request

__all__ = [
    "Command", "Help", "ListInvoices", "Period", "ShowInvoice", "Unclear", "parse",
    "parse_request",
]


def parse(text: str, today: date, locale: str = "en", *,
          fiscal_year_start: int = 1) -> Command | Unclear:
    """Understand one request line; anything not understood is Unclear, never an error.

    A line naming several invoice numbers asks for each; parse returns the first (use
    parse_request for all). locale is accepted for the contact's language, but every
    language we read is understood whatever it says: people mix them.
    """
    return read_line(text, today, fiscal_year_start)[0]
