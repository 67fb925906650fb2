"""Calendar arithmetic the period rules share: quarters, fiscal years, latest-not-future."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from bot.intents import Period


def month(year: int, number: int) -> Period:
    return Period.month(year, number)


def quarter(year: int, number: int) -> Period:
    first = 3 * number - 2
    return Period(date(year, first, 1), month(year, first + 2).end)


def fiscal_year(year: int, start_month: int) -> Period:
    """FY<year> is named by the calendar year it ENDS in (the common convention): with the
    fiscal year starting in April, FY2025 is 2024-04-01..2025-03-31; starting in January it
    is simply the calendar year 2025."""
    if start_month == 1:
        return Period.year(year)
    return Period(date(year - 1, start_month, 1), date(year, start_month, 1) - timedelta(days=1))


def fiscal_year_of(day: date, start_month: int) -> int:
    """The FY that contains day."""
    return day.year + 1 if start_month > 1 and day.month >= start_month else day.year


def shift_months(day: date, months: int) -> date:
    """day moved by whole months, the day of month clamped ("31 March" - 1 month = 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def valid_date(year: int, month_number: int, day: int) -> date | None:
    try:
        return date(year, month_number, day)
    except ValueError:
        return None


def week_of(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=6))
