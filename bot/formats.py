"""The contact's formats for replies: vault.formats plus how a period reads in English."""

from __future__ import annotations

from babel.dates import format_date

from bot.intents import Period
from vault import formats
from vault.formats import and_list, plural

__all__ = ["Formats", "and_list", "plural"]


class Formats(formats.Formats):
    """vault.formats.Formats, and periods as people say them."""

    def month(self, period: Period) -> str:
        """A period as people say it: "March 2026", "Q1 2026", "2025", else a date range."""
        start, end = period.start, period.end
        if period == Period.month(start.year, start.month):
            return format_date(start, format="MMMM y", locale="en")
        if period == Period.year(start.year):
            return str(start.year)
        if start.day == 1 and start.month % 3 == 1 and _is_quarter(period):
            return f"Q{start.month // 3 + 1} {start.year}"
        return f"{self.day(start)} – {self.day(end)}"


def _is_quarter(period: Period) -> bool:
    last = Period.month(period.start.year, period.start.month + 2).end
    return period.end == last
