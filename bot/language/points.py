"""Date expressions in a line: each day, month, quarter or year written, as a Point.

periods.py decides what they mean together (a range, "since", a single period).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.intents import Period
from bot.language import dates
from bot.language.months import WEAK, month_alternation, month_words
from bot.language.patterns import phrase_body

ORDINALS = {
    1: ("first", "1st", "1.", "erste", "erstes", "ersten", "premier", "1er", "primer", "primero",
        "primo", "eerste", "primeiro", "1o"),
    2: ("second", "2nd", "2.", "zweite", "zweites", "zweiten", "deuxieme", "second", "2e",
        "2eme", "segundo", "secondo", "tweede", "2o"),
    3: ("third", "3rd", "3.", "dritte", "drittes", "dritten", "troisieme", "3e", "3eme",
        "tercer", "tercero", "terzo", "derde", "terceiro", "3o"),
    4: ("fourth", "4th", "4.", "vierte", "viertes", "vierten", "quatrieme", "4e", "4eme",
        "cuarto", "quarto", "vierde", "4o"),
}
QUARTER = ("quarter", "quartal", "trimestre", "kwartaal")
@dataclass(frozen=True)
class Point:
    """One date expression: a day, month, quarter or year, its year possibly unwritten."""

    start: int
    end: int
    kind: str  # "day" | "month" | "quarter" | "year" | "invalid"
    year: int | None
    number: int = 1  # month (day, month) or quarter (quarter)
    day: int = 1
    weak: bool = False

    def period(self, year: int) -> Period | None:
        if self.kind == "day":
            day = dates.valid_date(year, self.number, self.day)
            return Period(day, day) if day else None
        if self.kind == "month":
            return dates.month(year, self.number)
        if self.kind == "quarter":
            return dates.quarter(year, self.number)
        return Period.year(year) if self.kind == "year" else None


@lru_cache(maxsize=1)
def points_pattern() -> re.Pattern[str]:
    m = month_alternation()
    ordinal = "|".join(f"(?P<o{n}>{phrase_body(*words)})" for n, words in ORDINALS.items())
    return re.compile(
        r"(?<![\w.-])(?P<iso_y>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2})(?![\w-])"
        r"|(?<![\w.])(?P<dot_d>\d{1,2})\.(?P<dot_m>\d{1,2})\.(?P<dot_y>\d{4})(?!\d)"
        rf"|(?<![\w.])(?P<dm_d>\d{{1,2}})(?:st|nd|rd|th|er|e|o)?\.?\s*(?:de\s+|of\s+)?"
        rf"(?P<dm_m>{m})(?!\w)\.?(?:,?\s*(?:de\s+)?(?P<dm_y>\d{{4}})(?!\d))?"
        rf"|(?<!\w)(?P<md_m>{m})\.?\s+(?P<md_d>\d{{1,2}})(?:st|nd|rd|th|,\s*(?=\d{{4}}))"
        rf"(?:\s*(?P<md_y>\d{{4}})(?!\d))?"
        rf"|(?<!\w)(?P<mdy_m>{m})\.?\s+(?P<mdy_d>\d{{1,2}})\s+(?P<mdy_y>\d{{4}})(?!\d)"
        rf"|(?<!\w)(?P<my_m>{m})\.?(?:\s*(?:de|del|of)?\s*|\s*-\s*|\s*'\s*)"
        r"(?P<my_y>\d{4}|\d{2})(?![\d.,:])"
        rf"|(?<!\w)(?P<m_m>{m})(?!\w)\.?"
        r"|(?<![\w.,-])(?P<nm_y>\d{4})[-/](?P<nm_m>\d{1,2})(?![\d.,-])"
        r"|(?<![\w.,-])(?P<nm2_m>\d{1,2})[/.-](?P<nm2_y>\d{4})(?![\d.,-])"
        r"|(?<!\w)q(?P<q_n>[1-4])(?:\s*[/'-]?\s*(?P<q_y>\d{4}|\d{2})(?![\d.,]))?(?!\w)"
        r"|(?<![\w.,-])(?P<yq_y>\d{4})\s*[-/ ]?\s*q(?P<yq_n>[1-4])(?!\w)"
        rf"|(?<!\w)(?:{ordinal})\s*(?:{phrase_body(*QUARTER)})(?!\w)"
        r"(?:\s+(?:of\s+|de\s+|del\s+|van\s+|do\s+)?(?P<oq_y>\d{4})(?!\d))?"
        r"|(?<![\w.,#$€£-])(?P<y_y>(?:199|20\d)\d)(?![\d.,]\d|[\w-])"
    )


def point_of(match: re.Match[str]) -> Point:
    g = {key: value for key, value in match.groupdict().items() if value is not None}
    span = match.start(), match.end()
    words = month_words()
    if "iso_y" in g:
        return _day(span, int(g["iso_y"]), int(g["iso_m"]), int(g["iso_d"]))
    if "dot_y" in g:
        return _day(span, int(g["dot_y"]), int(g["dot_m"]), int(g["dot_d"]))
    for prefix in ("dm", "md", "mdy"):
        if f"{prefix}_m" in g:
            year = int(g[f"{prefix}_y"]) if f"{prefix}_y" in g else None
            return _day(span, year, words[g[f"{prefix}_m"]], int(g[f"{prefix}_d"]))
    if "my_m" in g:
        year = int(g["my_y"])
        return Point(*span, "month", year + 2000 if year < 100 else year, words[g["my_m"]])
    if "m_m" in g:
        return Point(*span, "month", None, words[g["m_m"]], weak=g["m_m"] in WEAK)
    for prefix in ("nm", "nm2"):
        if f"{prefix}_m" in g:
            number = int(g[f"{prefix}_m"])
            kind = "month" if 1 <= number <= 12 else "invalid"
            return Point(*span, kind, int(g[f"{prefix}_y"]), number)
    if "y_y" in g:
        return Point(*span, "year", int(g["y_y"]))
    return _quarter(span, g)


def _day(span: tuple[int, int], year: int | None, month_number: int, day: int) -> Point:
    valid = 1 <= month_number <= 12 and dates.valid_date(year or 2000, month_number, day)
    return Point(*span, "day" if valid else "invalid", year, month_number, day)


def _quarter(span: tuple[int, int], g: dict[str, str]) -> Point:
    number = int(g.get("q_n") or g.get("yq_n") or next(k[1] for k in g if k[0] == "o"))
    year_text = g.get("q_y") or g.get("yq_y") or g.get("oq_y")
    year = None if year_text is None else int(year_text)
    return Point(*span, "quarter", year + 2000 if year is not None and year < 100 else year,
                 number)


