"""Periods said relative to today, and "last 3 invoices".

"this month" / "last month" / "this quarter" / "last quarter" / "this year" / "last year" /
"this week" / "last week" / "next week" (full calendar spans, this one's end may be in
the future), "next 30 days" / "within 2 weeks" (from today on: due dates look ahead),
"year to date", "last 90 days" (the 90 days ending today), "last 2 weeks", "last 3 months"
(the days after the same date 3 months ago, up to today), "FY2025" / "fiscal year 2025" /
"this fiscal year" / "last FY" (see dates.fiscal_year), and "last 3 invoices"
(Filters.last), each in the seven languages where people write them that way.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.intents import Period
from bot.language import dates
from bot.language.patterns import phrase_body
from bot.language.text import Scan
from bot.language.vocabulary import INVOICE_MANY, INVOICE_ONE, LATEST

THIS = ("this", "current", "the current", "diesen", "dieses", "diese", "aktuellen",
        "aktuelles", "aktuelle", "laufenden", "laufendes", "laufende", "ce", "cet", "cette",
        "este", "esta", "questo", "questa", "quest", "deze", "dit", "corrente", "en cours")
LAST = ("last", "previous", "past", "prior", "letzten", "letztes", "letzte", "vorigen",
        "voriges", "vorige", "vergangenen", "vergangenes", "vergangene", "dernier", "derniere",
        "precedent", "precedente", "passe", "passee", "pasado", "pasada", "anterior", "ultimo",
        "ultima", "scorso", "scorsa", "vorig", "afgelopen", "passado", "passada")
NEXT = ("next", "coming", "the next", "the coming", "nachsten", "nachste", "nachstes",
        "kommenden", "kommende", "kommendes", "prochain", "prochaine", "proximo", "proxima",
        "la proxima", "el proximo", "prossimo", "prossima", "la prossima", "il prossimo",
        "volgende", "komende", "a proxima", "o proximo")
NEXT_AFTER = ("prochain", "prochaine", "que viene", "que vem", "prossimo", "prossima",
              "proximo", "proxima")
THIS_AFTER = ("ci", "actual", "en cours", "corrente", "atual", "in corso")
LAST_AFTER = ("dernier", "derniere", "passe", "passee", "precedent", "precedente", "pasado",
              "pasada", "anterior", "scorso", "scorsa", "passado", "passada")
UNITS = {
    "week": ("week", "woche", "semaine", "semana", "settimana"),
    "month": ("month", "monat", "monats", "mois", "mes", "mese", "maand"),
    "quarter": ("quarter", "quartal", "trimestre", "kwartaal"),
    "year": ("year", "jahr", "jahres", "annee", "an", "ano", "anno", "jaar"),
}
COMPOUND = {"vormonat": ("month", -1), "vorjahr": ("year", -1), "vorquartal": ("quarter", -1),
            "ytd": ("ytd", 0)}
YEAR_TO_DATE = ("year to date", "so far this year", "seit jahresbeginn",
                "depuis le debut de l annee", "en lo que va del ano", "da inizio anno",
                "dit jaar tot nu toe", "desde o inicio do ano")
MANY_UNITS = {
    "days": ("days", "day", "tage", "tagen", "jours", "dias", "giorni", "dagen"),
    "weeks": ("weeks", "wochen", "semaines", "semanas", "settimane", "weken"),
    "months": ("months", "monate", "monaten", "mois", "meses", "mesi", "maanden"),
}
NEXT_N = ("next", "the next", "coming", "the coming", "within", "within the next",
          "nachsten", "in den nachsten", "innerhalb der nachsten", "innerhalb von",
          "prochains", "prochaines", "dans les", "proximos", "proximas", "en los proximos",
          "en las proximas", "dentro de", "prossimi", "prossime", "nei prossimi", "entro",
          "komende", "volgende", "binnen", "nos proximos", "nas proximas")
LAST_N = ("last", "past", "previous", "the last", "the past", "letzten", "letzte",
          "vergangenen", "derniers", "dernieres", "ultimos", "ultimas", "ultimi", "ultime",
          "laatste", "afgelopen")
FISCAL = ("fy", "fiscal year", "financial year", "geschaftsjahr", "gj", "exercice",
          "exercice fiscal", "ejercicio", "ejercicio fiscal", "ano fiscal", "esercizio",
          "boekjaar", "exercicio")
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "twenty": 20}


def _alt(*words: str) -> str:
    return phrase_body(*words)


_UNIT = "|".join(f"(?P<{name}>{_alt(*words)})" for name, words in UNITS.items())
_RELATIVE = re.compile(
    rf"(?<!\w)(?:(?P<this>{_alt(*THIS)})|(?P<last>{_alt(*LAST)})|(?P<next>{_alt(*NEXT)}))"
    rf"(?:\s+|\s*'\s*)(?:{_UNIT})(?!\w)"
    rf"(?:[\s-]+(?:ci|la))?"
)
_UNIT2 = "|".join(f"(?P<{name}2>{_alt(*words)})" for name, words in UNITS.items())
_RELATIVE_AFTER = re.compile(
    rf"(?<!\w)(?:{_UNIT2})[\s-]+(?:(?P<this2>{_alt(*THIS_AFTER)})|(?P<last2>{_alt(*LAST_AFTER)})"
    rf"|(?P<next2>{_alt(*NEXT_AFTER)}))"
    rf"(?!\w)"
)
_COMPOUND = re.compile(rf"(?<!\w)(?:{_alt(*COMPOUND)})(?!\w)")
_YTD = re.compile(rf"(?<!\w)(?:{_alt(*YEAR_TO_DATE)})(?!\w)")
_MANY = "|".join(f"(?P<{name}>{_alt(*words)})" for name, words in MANY_UNITS.items())
_NUMBER = rf"(?P<n>\d{{1,3}}|{_alt(*NUMBER_WORDS)})"
_LAST_N = re.compile(rf"(?<!\w)(?:in\s+the\s+|over\s+the\s+)?(?:{_alt(*LAST_N)})\s+{_NUMBER}"
                     rf"\s+(?:{_MANY})(?!\w)")
_NEXT_N = re.compile(rf"(?<!\w)(?:(?:{_alt(*NEXT_N)})\s+{_NUMBER}"
                     rf"|{_NUMBER.replace('<n>', '<m>')}\s+(?:prochains|prochaines))"
                     rf"\s+(?:{_MANY})(?!\w)")
_N_LAST = re.compile(rf"(?<!\w){_NUMBER}\s+(?:derniers|dernieres)\s+(?:{_MANY})(?!\w)")
_FY = re.compile(rf"(?<!\w)(?:{_alt(*FISCAL)})\s*[-'/]?\s*(?P<y>\d{{4}}|\d{{2}})(?!\d)")
_FY_RELATIVE = re.compile(
    rf"(?<!\w)(?:(?P<this>{_alt(*THIS)})|(?P<last>{_alt(*LAST)}))\s+(?:{_alt(*FISCAL)})(?!\w)")
_COUNT_WORD = rf"(?P<n>\d{{1,3}}|{_alt(*NUMBER_WORDS)})"
_LAST_COUNT = re.compile(
    rf"(?<!\w)(?:{_alt(*LATEST)})\s+{_COUNT_WORD}\s+(?:{_alt(*INVOICE_MANY, *INVOICE_ONE)})(?!\w)"
    rf"|(?<!\w){_COUNT_WORD.replace('<n>', '<m>')}\s+(?:{_alt(*LATEST)})\s+"
    rf"(?:{_alt(*INVOICE_MANY, *INVOICE_ONE)})(?!\w)"
)
_LAST_ONE = re.compile(rf"(?<!\w)(?:{_alt(*LATEST)})\s+(?:{_alt(*INVOICE_ONE)})(?!\w)")


def read_last_count(scan: Scan) -> int | None:
    """"last 3 invoices" -> 3, "latest invoice" -> 1 (None: not asked)."""
    match = scan.take_first(_LAST_COUNT)
    if match is not None:
        count = _number(match["n"] or match["m"])
        return count if count > 0 else None
    return 1 if scan.take_first(_LAST_ONE) else None


def read_relative(scan: Scan, today: date, fiscal_year_start: int) -> Period | None:
    for reader in (_fiscal, _span, _compound, _last_n, _next_n):
        period = reader(scan, today, fiscal_year_start)
        if period is not None:
            return period
    return None


def _fiscal(scan: Scan, today: date, start: int) -> Period | None:
    if (named := scan.take_first(_FY)) is not None:
        year = int(named["y"])
        return dates.fiscal_year(year + 2000 if year < 100 else year, start)
    if (relative := scan.take_first(_FY_RELATIVE)) is not None:
        year = dates.fiscal_year_of(today, start) - (1 if relative["last"] else 0)
        return dates.fiscal_year(year, start)
    return None


def _span(scan: Scan, today: date, _start: int) -> Period | None:
    match = scan.take_first(_RELATIVE) or scan.take_first(_RELATIVE_AFTER)
    if match is None:
        return None
    groups = {key.rstrip("2"): value for key, value in match.groupdict().items() if value}
    unit = next(name for name in UNITS if name in groups)
    offset = -1 if "last" in groups else 1 if "next" in groups else 0
    return _unit_period(unit, offset, today)


def _compound(scan: Scan, today: date, _start: int) -> Period | None:
    if scan.take_first(_YTD) is not None:
        return Period(date(today.year, 1, 1), today)
    match = scan.take_first(_COMPOUND)
    if match is None:
        return None
    unit, offset = COMPOUND[match[0]]
    if unit == "ytd":
        return Period(date(today.year, 1, 1), today)
    return _unit_period(unit, offset, today)


def _unit_period(unit: str, offset: int, today: date) -> Period:
    if unit == "week":
        return dates.week_of(today + timedelta(weeks=offset))
    if unit == "month":
        first = dates.shift_months(today.replace(day=1), offset)
        return dates.month(first.year, first.month)
    if unit == "quarter":
        index = today.year * 4 + (today.month - 1) // 3 + offset
        return dates.quarter(index // 4, index % 4 + 1)
    return Period.year(today.year + offset)


def _last_n(scan: Scan, today: date, _start: int) -> Period | None:
    match = scan.take_first(_LAST_N) or scan.take_first(_N_LAST)
    if match is None:
        return None
    count = _number(match["n"])
    if count < 1:
        return None
    if match["days"]:
        return Period(today - timedelta(days=count - 1), today)
    if match["weeks"]:
        return Period(today - timedelta(weeks=count) + timedelta(days=1), today)
    return Period(dates.shift_months(today, -count) + timedelta(days=1), today)


def _next_n(scan: Scan, today: date, _start: int) -> Period | None:
    """"in the next 30 days" / "within 2 weeks": from today on (a due date's window)."""
    match = scan.take_first(_NEXT_N)
    if match is None:
        return None
    count = _number(match["n"] or match["m"])
    if count < 1:
        return None
    if match["days"]:
        return Period(today, today + timedelta(days=count - 1))
    if match["weeks"]:
        return Period(today, today + timedelta(weeks=count) - timedelta(days=1))
    return Period(today, dates.shift_months(today, count) - timedelta(days=1))


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text]
