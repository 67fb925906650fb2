"""Due dates: "due this week", "what falls due in December", "fällig im Dezember", ...

A due word (DUE, in seven languages; "due" itself is WEAK) next to a period makes that
period a due-date filter (Filters.due), not an issue date. The period stands right after
the word, with only connecting words between ("due in December", "due before the 15th",
"à échéance en décembre", "vencen esta semana", "in scadenza a dicembre"), or, where the
verb comes last, right before it ("die im Dezember fällig werden", "die deze week
vervallen"). "before" ends the filter the day before the period, "by"/"until" with it,
"after" starts it the day after; the other end stays open. A month, quarter or day
without a year is the nearest one (periods.read_period(nearest=True): "December" on
2026-11-21 is December 2026); "the 15th" is the next 15th from today; "today",
"tomorrow" and "end of the month" are read here. A due word with no period
(read_due_alone, after the intents have taken "how much is due") asks for what is still
to pay, soonest due first: Due(). The parser makes any due filter without a status word
ask for unpaid invoices: what is paid is no longer due.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from bot.intents import Due, Period
from bot.language.patterns import phrase_body, phrases
from bot.language.periods import read_period
from bot.language.relative import MANY_UNITS, read_relative
from bot.language.statuses import beside_invoice_word
from bot.language.text import MASK, Scan

DUE = (
    "falls due", "fall due", "falling due", "come due", "comes due", "coming due",
    "becomes due", "become due", "due date", "due dates",
    "fallig", "fallige", "falligen", "falliges", "fallig werden", "fallig wird", "falligkeit",
    "falligkeitsdatum", "zahlbar",
    "a echeance", "echeance", "echeances", "arrivent a echeance", "arrive a echeance",
    "arrivant a echeance", "date d echeance", "exigible", "exigibles",
    "vence", "vencen", "vencimiento", "vencimientos", "con vencimiento", "que vencen",
    "a vencer", "scadenza", "in scadenza", "scade", "scadono", "con scadenza", "scadenze",
    "data di scadenza", "vervalt", "vervaldatum", "vervaldag", "vencem", "vencimento",
    "vencimentos", "com vencimento", "vencendo",
)
WEAK = ("due",)  # "due to the holidays": only beside a period or an invoice word
WITH_PERIOD_ONLY = ("vervallen",)  # alone it is "overdue" (statuses.OVERDUE_WORDS)
BEFORE = ("before", "vor", "vor dem", "avant", "avant le", "antes", "antes del", "antes de",
          "prima", "prima del", "voor")
BY = ("by", "until", "till", "no later than", "bis", "bis zum", "bis spatestens",
      "spatestens", "d ici", "d ici le", "jusqu au", "hasta", "hasta el", "entro", "entro il",
      "uiterlijk", "tot", "ate", "ate o", "ate dia")
AFTER = ("after", "nach", "nach dem", "apres", "apres le", "despues", "despues del", "dopo",
         "dopo il", "depois", "depois de")
CONNECT = (*BEFORE, *BY, *AFTER, "in", "on", "at", "the", "within", "during", "for", "from",
           "between", "zwischen", "von", "entre", "desde", "tra", "fra", "tussen",
           "im", "am", "in der", "in den", "innerhalb", "ab", "den", "der", "en", "le", "les",
           "au", "dans", "dans les", "el", "los", "las", "a", "il", "i", "nel", "nella", "nei",
           "op", "de", "du", "des", "vom", "van", "em", "no", "nos", "na", "do", "da", "dia",
           "del", "di", "is", "are", "sind",
           "werden", "est", "sont", "es", "son", "e", "sono", "zijn", "sao")
TODAY = ("today", "heute", "aujourd hui", "hoy", "oggi", "vandaag", "hoje")
TOMORROW = ("tomorrow", "morgen", "demain", "manana", "domani", "amanha")
MONTH_END = ("end of the month", "end of month", "month end", "monatsende", "ende des monats",
             "ende monat", "fin de mois", "fin du mois", "fin de mes", "fine mese",
             "fine del mese", "eind van de maand", "einde van de maand", "einde maand",
             "final do mes", "fim do mes")
MANY_WORDS = tuple(word for words in MANY_UNITS.values() for word in words)
WINDOW = 60  # characters after or before the due word a period may take

_KEYWORD = re.compile(rf"(?<!\w)(?<!past\s)(?:(?P<strong>{phrase_body(*DUE)})"
                      rf"|(?P<weak>{phrase_body(*WEAK)})|(?P<only>{phrase_body(*WITH_PERIOD_ONLY)}))"
                      r"(?!\w)")
_CONNECTORS = re.compile(rf"(?:[\s,]*(?<!\w)(?:{phrase_body(*CONNECT)})(?!\w)){{0,4}}[\s,]*")
_BEFORE = phrases(*BEFORE)
_BY = phrases(*BY)
_AFTER = phrases(*AFTER)
_STOP = re.compile(r"[,;:?!\n]|(?<!\d)\.\s")
_DAY_WORD = re.compile(rf"(?<!\w)(?:(?P<today>{phrase_body(*TODAY)})"
                       rf"|(?P<tomorrow>{phrase_body(*TOMORROW)})"
                       rf"|(?P<end>{phrase_body(*MONTH_END)}))(?!\w)")
_BARE_DAY = re.compile(r"(?<![\w.,])(?P<d>[0-3]?\d)(?:st|nd|rd|th|eme|er|e|o|\.)?(?![\w,.]?\d)"
                       rf"(?!\w)(?!\s*(?:{phrase_body(*MANY_WORDS)})(?!\w))")
MAX_KEYWORDS = 3


def read_due(scan: Scan, today: date, fiscal_year_start: int = 1) -> Due | None:
    """A due word with its period, masked; None if no due word has one."""
    for match in list(scan.find(_KEYWORD))[:MAX_KEYWORDS]:
        due = _after(scan, match, today, fiscal_year_start)
        if due is None:
            due = _before(scan, match, today, fiscal_year_start)
        if due is not None:
            scan.mask(match.start(), match.end())
            return due
    return None


def read_due_alone(scan: Scan) -> bool:
    """A due word without a period ("what is due", "fällige Rechnungen"), masked."""
    for match in list(scan.find(_KEYWORD))[:MAX_KEYWORDS]:
        if match["only"] or (match["weak"] and not beside_invoice_word(scan, match)):
            continue
        scan.mask(match.start(), match.end())
        return True
    return False


def _after(scan: Scan, keyword: re.Match[str], today: date, fy_start: int) -> Due | None:
    start = keyword.end()
    stop = _STOP.search(scan.text, start, start + WINDOW)
    end = stop.start() if stop else min(len(scan.text), start + WINDOW)
    found = _period_in(scan, start, end, today, fy_start)
    if found is None:
        return None
    period, first, last, bare = found
    lead = scan.text[start:first]
    if not _CONNECTORS.fullmatch(lead) or (bare and not lead.strip(" ,")):
        return None
    scan.mask(start, last)
    return _bounded(period, lead)


def _before(scan: Scan, keyword: re.Match[str], today: date, fy_start: int) -> Due | None:
    stops = list(_STOP.finditer(scan.text, max(0, keyword.start() - WINDOW), keyword.start()))
    start = stops[-1].end() if stops else max(0, keyword.start() - WINDOW)
    found = _period_in(scan, start, keyword.start(), today, fy_start)
    if found is None or found[3] or scan.text[found[2]:keyword.start()].strip(" \x00"):
        return None
    period, first, last, _ = found
    scan.mask(first, last)
    return Due(period.start, period.end)


def _period_in(scan: Scan, start: int, end: int, today: date, fy_start: int
               ) -> tuple[Period, int, int, bool] | None:
    """The first period written in text[start:end]: where it starts and ends, and whether
    it is a bare day number ("the 15th"). Nothing is masked: the caller masks what it uses."""
    if start >= end:
        return None
    saved = scan.text
    scan.text = MASK * start + saved[start:end] + MASK * (len(saved) - end)
    period = (_day_word(scan, today) or read_relative(scan, today, fy_start)
              or read_period(scan, today, nearest=True))
    bare = period is None and (period := _bare_day(scan, today)) is not None
    window, scan.text = scan.text, saved
    if period is None:
        return None
    changed = [i for i in range(start, end) if window[i] == MASK and saved[i] != MASK]
    return (period, changed[0], changed[-1] + 1, bare) if changed else None


def _day_word(scan: Scan, today: date) -> Period | None:
    """"today", "tomorrow", "end of the month"."""
    match = scan.take_first(_DAY_WORD)
    if match is None:
        return None
    day = today if match["today"] else today + timedelta(days=1) if match["tomorrow"] \
        else today.replace(day=calendar.monthrange(today.year, today.month)[1])
    return Period(day, day)


def _bare_day(scan: Scan, today: date) -> Period | None:
    """"the 15th", "am 15.", "le 15": the next such day (only after a connecting word)."""
    match = scan.take_first(_BARE_DAY)
    if match is None or not 1 <= int(match["d"]) <= 31:
        return None
    day = _next_day_numbered(today, int(match["d"]))
    return Period(day, day)


def _next_day_numbered(today: date, number: int) -> date:
    """The next day (today included) that is the `number`th of its month."""
    year, month = today.year, today.month
    for _ in range(13):
        if number <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, number)
            if candidate >= today:
                return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return today


def _bounded(period: Period, lead: str) -> Due:
    if _BEFORE.search(lead):
        return Due(None, period.start - timedelta(days=1))
    if _BY.search(lead):
        return Due(None, period.end)
    if _AFTER.search(lead):
        return Due(period.end + timedelta(days=1), None)
    return Due(period.start, period.end)
