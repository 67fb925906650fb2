"""The command language: parse(text, today, locale) -> Command | Unclear. Pure, no I/O.

This first cut understands a listing by month ("invoices March", "invoices 2026-03",
"March 2025", "03/2025"), one invoice by number ("invoice INV-1042"), unpaid and overdue
invoices, and help. Month names come from Babel's locale data, not from a hand-typed list.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

from babel.dates import get_month_names

from bot.intents import (
    OVERDUE,
    UNPAID,
    Command,
    Filters,
    Help,
    InvoiceRef,
    ListInvoices,
    Period,
    ShowInvoice,
    Unclear,
)
from vault.models import InvoiceStatus

__all__ = ["Command", "Help", "ListInvoices", "Period", "ShowInvoice", "Unclear", "parse"]

MONTH_LOCALES = ("en",)


_HELP = re.compile(r"^\s*(help|\?|what can you do|commands)\s*[?!.]*\s*$")
_ISO_MONTH = re.compile(r"\b(\d{4})-(\d{1,2})\b")
_SLASH_MONTH = re.compile(r"\b(\d{1,2})/(\d{4})\b")
_YEAR = re.compile(r"\b(19|20)(\d{2})\b")
# Invoice numbers as sellers print them: letters, a dash or space, digits and dashes.
_NUMBER = re.compile(r"\b([a-z]{2,5})([- ]?)(\d[\d-]*\d|\d)\b", re.IGNORECASE)
_INVOICE_WORD = re.compile(r"\b(invoices?|inv|bills?|copy|copies|resend)\b")
_UNPAID_WORDS = re.compile(r"\b(unpaid|open|outstanding|due|owe|owing)\b")
_OVERDUE_WORDS = re.compile(r"\b(overdue|late|past due)\b")


def parse(text: str, today: date, locale: str = "en") -> Command | Unclear:
    """Understand one request line; anything not understood is Unclear, never an error."""
    folded = _fold(text)
    if not folded:
        return Unclear(text)
    if _HELP.match(folded):
        return Help()
    number = _invoice_number(text)
    if number is not None:
        return ShowInvoice(number)
    statuses = _statuses(folded)
    period = _period(folded, today)
    if period is not None or statuses:
        return ListInvoices(Filters(period=period, statuses=statuses))
    if _INVOICE_WORD.search(folded):
        return ListInvoices()
    return Unclear(text)


def _fold(text: str) -> str:
    """Lower-case, strip accents and punctuation noise, squeeze spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w/?-]+", " ", plain).split())


def _invoice_number(text: str) -> InvoiceRef | None:
    for match in _NUMBER.finditer(text):
        prefix, joiner, digits = match[1], match[2], match[3]
        if prefix.lower() in {"q", "fy"} or prefix.lower() in _month_words():
            continue
        # "from 2025" is not a number; "INV 1042", "inv-1042" and "ABC1042" are.
        if joiner == "-" or prefix.isupper() or prefix.lower() == "inv":
            groups = tuple(int(group) for group in digits.split("-") if group)
            return InvoiceRef(f"{prefix.upper()}-{digits}", prefix.upper(), groups)
    return None


def _statuses(folded: str) -> tuple[InvoiceStatus, ...]:
    if _OVERDUE_WORDS.search(folded):
        return OVERDUE
    if _UNPAID_WORDS.search(folded):
        return UNPAID
    if re.search(r"\bpaid\b", folded):
        return (InvoiceStatus.PAID,)
    return ()


def _period(folded: str, today: date) -> Period | None:
    numeric = _numeric_month(folded)
    if numeric is not None:
        year, month = numeric
        return Period.month(year, month) if 1 <= month <= 12 else None
    named = _month_name(folded)
    if named is None:
        return None
    year_match = _YEAR.search(folded)
    if year_match:
        return Period.month(int(year_match[0]), named)
    return Period.month(_latest_year_of(named, today), named)


def _numeric_month(folded: str) -> tuple[int, int] | None:
    """2026-03 or 03/2026 as (year, month)."""
    if iso := _ISO_MONTH.search(folded):
        return int(iso[1]), int(iso[2])
    if slash := _SLASH_MONTH.search(folded):
        return int(slash[2]), int(slash[1])
    return None


def _latest_year_of(month: int, today: date) -> int:
    """A month without a year: the latest such month that is not in the future."""
    return today.year if month <= today.month else today.year - 1


def _month_name(folded: str) -> int | None:
    words = _month_words()
    for word in folded.split():
        if word in words:
            return words[word]
    return None


@lru_cache(maxsize=1)
def _month_words() -> dict[str, int]:
    words: dict[str, int] = {}
    for locale in MONTH_LOCALES:
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                words[_fold(name).rstrip(".")] = number
    return words
