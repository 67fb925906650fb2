"""One request line -> the commands it asks for (pure: no I/O, never raises).

Reading order matters, because each recognizer masks what it understood: invoice and PO
numbers first (so "INV-2026-0042" is not the year 2026), alert settings, a request for a
person, then periods, amounts, the billing entity, the intent words and the status words.
What decides the command, in order: an invoice number (detail, or a dispute with
"dispute"/"wrong"); archive ("as zip"), statement, aging, payments, balance; any filter
(period, due date, status, PO, amount, entity, "last 3") or an invoice word: a listing;
thanks or a pleasantry alone: Thanks; "help"; else
Unclear. A line whose only clue is a single word among many others ("Our office is closed
in December") is Unclear too: see _plain_enough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from bot.intents import (
    UNPAID,
    Aging,
    Archive,
    Balance,
    Command,
    ConnectChat,
    Dispute,
    Due,
    Filters,
    Help,
    ListInvoices,
    Payments,
    ShowInvoice,
    Statement,
    TalkToPerson,
    Thanks,
    Unclear,
)
from bot.language import typos
from bot.language.amounts import read_amounts
from bot.language.due import read_due, read_due_alone
from bot.language.entity import read_entity
from bot.language.identifiers import Found, read_marked, read_po, read_prefixed
from bot.language.periods import read_period
from bot.language.prefs import read_answer_language, read_preferences
from bot.language.relative import read_last_count, read_relative
from bot.language.smalltalk import content_words, greeting_end, is_courtesy, is_pleasantry
from bot.language.statuses import read_statuses
from bot.language.suggestions import suggestions_for
from bot.language.text import Scan
from bot.language.vocabulary import (
    AGING_RE,
    ARCHIVE_RE,
    BALANCE_RE,
    CONNECT_RE,
    DISPUTE_RE,
    HELP_RE,
    INVOICE_ANY_RE,
    PAYMENTS_RE,
    STATEMENT_RE,
    TALK_RE,
    WRONG_RE,
)

MAX_CHARS = 600  # a longer line is read up to here: no request needs more
_LINKING = re.compile(r"^\s*/?(?:un)?link(?:\s+\S+@\S+)?\s*$|^\s*\d{4}[ -]?\d{4}\s*$",
                      re.IGNORECASE)
_SEPARATORS = re.compile(r"^[\s:,;.!?\x00-]+")
_INTENTS = {"archive": ARCHIVE_RE, "statement": STATEMENT_RE, "aging": AGING_RE,
            "payments": PAYMENTS_RE, "balance": BALANCE_RE}


@dataclass
class Reading:
    """What one line said, before it becomes a command."""

    refs: list[Found] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    intents: set[str] = field(default_factory=set)
    near: set[str] = field(default_factory=set)


def read_line(text: str, today: date, fiscal_year_start: int = 1) -> list[Command | Unclear]:
    """Every command one line asks for (several only for several invoice numbers)."""
    if not text.strip() or _LINKING.match(text):
        return [Unclear(text)]
    scan = Scan(_bounded(text))
    if is_courtesy(scan.text, typos.known_words()):
        return [Thanks()]
    if is_pleasantry(scan.text):
        return [Unclear(text)]
    scan.mask(0, greeting_end(scan.text))
    # Before typo correction: "conectar" is no misspelt "contestar" (a dispute).
    if connect := CONNECT_RE.search(scan.text):
        return [ConnectChat(connect["after"] or connect["before"])]
    if (language := read_answer_language(scan.text)) is not None:
        return [language]
    reading = Reading(near=typos.correct(scan))
    known = typos.known_words()
    reading.refs = read_prefixed(scan, known)
    po = read_po(scan)
    if not reading.refs and po is None and (settings := read_preferences(scan)) is not None:
        return [settings]
    if TALK_RE.search(scan.text):
        return [TalkToPerson(text.strip())]
    reading.refs += read_marked(scan)
    reading.filters = _filters(scan, today, fiscal_year_start, po, known)
    reading.intents = {name for name, pattern in _INTENTS.items() if scan.take(pattern)}
    due = reading.filters.due or (Due() if read_due_alone(scan) else None)
    reading.filters = replace(reading.filters, statuses=read_statuses(scan), due=due)
    return _decide(scan, reading, text)


def _bounded(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_CHARS)
    return text[:cut if cut > 0 else MAX_CHARS]


def _filters(scan: Scan, today: date, fiscal_year_start: int, po: str | None,
             known: frozenset[str]) -> Filters:
    last = read_last_count(scan)
    due = read_due(scan, today, fiscal_year_start)
    relative = read_relative(scan, today, fiscal_year_start)
    amounts = read_amounts(scan)
    absolute = read_period(scan, today)
    return Filters(
        period=relative or absolute, po_number=po, min_amount=amounts.minimum,
        max_amount=amounts.maximum, amount=amounts.exact, currency=amounts.currency,
        entity=read_entity(scan, known), last=last, due=due,
    )


def _decide(scan: Scan, reading: Reading, text: str) -> list[Command | Unclear]:
    filters, intents = reading.filters, reading.intents
    disputed = bool(scan.take(DISPUTE_RE))
    if reading.refs:
        if disputed or WRONG_RE.search(scan.text):
            first = reading.refs[0]
            return [Dispute(first.ref, _reason(scan, first.end))]
        return [ShowInvoice(found.ref) for found in reading.refs]
    if disputed:
        return [Unclear(text, suggestions_for({"dispute"}))]
    noun = bool(scan.take(INVOICE_ANY_RE))
    command = _command(filters, intents, noun)
    if command is not None and _plain_enough(scan, filters, intents, noun):
        return [command]
    if HELP_RE.search(scan.text) and not content_words(HELP_RE.sub(" ", scan.text)):
        return [Help()]
    return [Unclear(text, suggestions_for(reading.near | _clues(filters, intents, noun)))]


def _command(filters: Filters, intents: set[str], noun: bool) -> Command | None:
    if filters.due is not None and not filters.statuses:  # what is paid is no longer due
        filters = replace(filters, statuses=UNPAID)
    if "archive" in intents:
        return Archive(filters)
    if "statement" in intents:
        return Statement(filters.period)
    if "aging" in intents:
        return Aging(filters.entity)
    if "payments" in intents:
        return Payments(filters.period)
    if "balance" in intents:
        if noun or filters.period or filters.statuses or filters.due:  # "... for March"
            return ListInvoices(replace(filters, statuses=filters.statuses or UNPAID))
        return Balance(filters.entity)
    if noun or filters != Filters():
        return ListInvoices(filters)
    return None


def _plain_enough(scan: Scan, filters: Filters, intents: set[str], noun: bool) -> bool:
    """One clue among many unknown words is chance, not a request ("we are closed in
    December", "the payment will follow"): allow fewer unknown words the weaker the clue."""
    clues = _clues(filters, intents, noun)
    if len(clues) > 1:
        return True
    unknown = len(content_words(scan.text))
    if clues == {"entity"}:
        return False
    return unknown <= (2 if clues == {"status"} else 1)


def _clues(filters: Filters, intents: set[str], noun: bool) -> set[str]:
    clues = set(intents)
    if noun:
        clues.add("invoices")
    if filters.period is not None:
        clues.add("period")
    if filters.statuses or filters.last:
        clues.add("status")
    if filters.due is not None:
        clues.add("due")
        if filters.due != Due():
            clues.add("period")
    if filters.po_number:
        clues.add("po")
    if filters.min_amount or filters.max_amount or filters.amount:
        clues.add("amount")
    if filters.entity:
        clues.add("entity")
    return clues


def _reason(scan: Scan, end: int) -> str:
    """The contact's words after the number, without a leading "dispute:" or separator."""
    after = Scan(_SEPARATORS.sub("", scan.after(end)))
    keyword = DISPUTE_RE.match(after.text)
    rest = after.after(keyword.end()) if keyword else after.written
    return _SEPARATORS.sub("", rest).strip()
