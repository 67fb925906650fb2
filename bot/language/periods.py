"""Absolute periods: days, months, quarters and years, alone, as ranges or "since".

Rules (documented because people write dates loosely):
- A month without a year is the latest such month that has started: on 2026-11-21
  "November" is November 2026 and "December" is December 2025. The same for a quarter
  ("Q4" is Q4 2026), a day ("15 March") and a range's first end.
- "<month> NN" with two digits is month and year ("Mar 25" is March 2025); write the day
  before the month ("25 Mar"), with an ordinal ("Mar 25th") or with a year ("Mar 25, 2026")
  to mean a day.
- Numeric months: "2025-03", "03/2025", "03.2025". Numeric days: ISO "2026-02-01" and
  "01.02.2026"; slashed days ("01/02/2026") are not read, since they mean different days in
  the US and in Europe.
- A bare 4-digit number from 1990 to 2099 is a year, once invoice numbers, amounts and
  quarters have taken theirs.
- Quarters are calendar quarters ("Q1 2025", "first quarter", "1. Quartal", "premier
  trimestre"); only "FY" names follow seller.fiscal_year_start (relative.py).
- Ranges: "Jan-Mar", "January to March 2026", "between 1 Feb and 15 Mar 2026",
  "from 2026-02-01 to 2026-03-15", "von Januar bis März"; a year written on one end
  applies to both (the start falls in the year before when it is a later month).
- "since March" runs from the start of that March to today.
- Weak month words (months.WEAK: "may", "set", "out", ...) count only with a year or day,
  in a range, after a period preposition ("in May") or beside an invoice word ("May
  invoices"): "may I have the invoices" asks for recent invoices, not May's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from bot.intents import Period
from bot.language.patterns import phrase_body
from bot.language.points import Point, point_of, points_pattern
from bot.language.text import Scan
from bot.language.vocabulary import INVOICE_MANY, INVOICE_ONE, PAYMENTS, STATEMENT

PREPOSITIONS = frozenset(re.findall(r"\S+", """in for from since during of until till through
to im fur seit von bis en pour depuis de desde hasta del di da dal van sinds tot em do ate a au
al"""))
SINCE = ("since", "seit", "depuis", "desde", "da", "dal", "dalla", "sinds", "a partir de")
RANGE_START = ("from", "between", "von", "zwischen", "du", "de", "entre", "desde", "da", "dal",
               "tra", "fra", "van", "tussen")
TO = ("-", "to", "tot en met", "through", "thru", "until", "till", "bis", "a", "au", "hasta",
      "al", "tot", "t m", "ate")
AND = ("and", "und", "et", "y", "e", "en")
BETWEEN = ("between", "zwischen", "entre", "tra", "fra", "tussen")


def read_period(scan: Scan, today: date, *, nearest: bool = False) -> Period | None:
    """The period the line names, or None; every date expression read is masked.

    With `nearest` (due dates, which look ahead as often as back), a month, quarter or
    day without a year is the one nearest to today, the coming one on a tie: on
    2026-11-21 "December" is December 2026 and "October" October 2026."""
    points = [point_of(match) for match in scan.find(points_pattern())]
    points = [point for point in points if not point.weak or _weak_counts(scan, point, points)]
    for point in points:
        scan.mask(point.start, point.end)
    valid = [point for point in points if point.kind != "invalid"]
    if not valid:
        return None
    return _combined(scan, valid, today, _nearest_year if nearest else _latest_year)


_NOUNS = re.compile(rf"(?<!\w)(?:{phrase_body(*INVOICE_ONE, *INVOICE_MANY, *STATEMENT, *PAYMENTS)})"
                    r"(?!\w)")
_LAST_WORD = re.compile(r"([^\W\d_]+)[\s\x00]*$")
_FIRST_WORD = re.compile(r"^[\s\x00]*([^\W\d_]+)")


def _weak_counts(scan: Scan, point: Point, points: list[Point]) -> bool:
    """A weak month word ("may") is a month only where a period is plainly meant."""
    if any(other is not point and not other.weak for other in points):
        return True  # a range or a second date: "May to July", "May, 2025"
    before = _LAST_WORD.search(scan.text[:point.start])
    after = _FIRST_WORD.match(scan.text[point.end:])
    if before and (before[1] in PREPOSITIONS or _NOUNS.fullmatch(before[1])):
        return True
    return bool(after and _NOUNS.fullmatch(after[1]))




_TAIL = r"[\s\x00]*$"
_SINCE_BEFORE = re.compile(rf"(?<!\w)(?:{phrase_body(*SINCE)}){_TAIL}")
_START_BEFORE = re.compile(rf"(?<!\w)(?:{phrase_body(*RANGE_START)}){_TAIL}")
_BETWEEN_BEFORE = re.compile(rf"(?<!\w)(?:{phrase_body(*BETWEEN)}){_TAIL}")
_TO = re.compile(rf"\s*(?:{phrase_body(*TO)})\s*")
_AND = re.compile(rf"\s*(?:{phrase_body(*AND)})\s*")


YearOf = Callable[[Point, date], int]


def _combined(scan: Scan, points: list[Point], today: date, year_of: YearOf) -> Period | None:
    first = points[0]
    if len(points) > 1 and _is_range(scan, first, points[1]):
        return _range(first, points[1], today, year_of)
    before = scan.text[:first.start]
    if (since := _SINCE_BEFORE.search(before)) is not None:
        scan.mask(since.start(), since.end())
        start = _single(first, today, year_of)
        return Period(start.start, today) if start and start.start <= today else start
    years = [p for p in points[1:] if p.kind == "year"]
    if first.kind in {"month", "quarter", "day"} and first.year is None and years:
        return first.period(years[0].year or today.year)  # "March ... 2025"
    return _single(first, today, year_of)


def _is_range(scan: Scan, first: Point, second: Point) -> bool:
    between = scan.text[first.end:second.start]
    if _TO.fullmatch(between):
        return True
    return bool(_AND.fullmatch(between) and _BETWEEN_BEFORE.search(scan.text[:first.start]))


def _range(first: Point, second: Point, today: date, year_of: YearOf) -> Period | None:
    """Both ends resolved to years; a year written on one end applies to the other."""
    wraps = _order(second) < _order(first)
    start_year, end_year = first.year, second.year
    if start_year is None and end_year is None:
        start_year = year_of(first, today)
    if start_year is None:
        assert end_year is not None
        start_year = end_year - 1 if wraps else end_year
    if end_year is None:
        end_year = start_year + 1 if wraps else start_year
    start, end = first.period(start_year), second.period(end_year)
    if start is None or end is None or end.end < start.start:
        return start
    return Period(start.start, end.end)


def _order(point: Point) -> tuple[int, int]:
    if point.kind == "quarter":
        return 3 * point.number - 2, 1
    return (point.number, point.day) if point.kind in {"day", "month"} else (1, 1)


def _single(point: Point, today: date, year_of: YearOf) -> Period | None:
    return point.period(point.year if point.year is not None else year_of(point, today))


def _latest_year(point: Point, today: date) -> int:
    """The latest year in which this month / quarter / day has started by today."""
    for year in range(today.year, today.year - 9, -1):
        period = point.period(year)
        if period is not None and period.start <= today:
            return year
    return today.year


def _nearest_year(point: Point, today: date) -> int:
    """The year in which this month / quarter / day lies nearest to today (a tie: later)."""
    def distance(year: int) -> tuple[int, int]:
        period = point.period(year)
        if period is None:
            return (10**6, -year)
        gap = max((period.start - today).days, (today - period.end).days, 0)
        return (gap, -year)
    return min(range(today.year - 1, today.year + 2), key=distance)
