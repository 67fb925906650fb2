"""The contact's formats: English words, dates, numbers and money in their locale and zone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from bot.intents import Period


@dataclass(frozen=True)
class Formats:
    """The contact's locale and time zone, for every date and amount in a reply."""

    locale: str
    timezone: str

    @classmethod
    def of(cls, locale: str, timezone: str) -> Formats:
        try:
            Locale.parse(locale or "en")
        except (UnknownLocaleError, ValueError):
            locale = "en"
        return cls(locale=locale or "en", timezone=timezone or "UTC")

    def day(self, value: date) -> str:
        return format_date(value, format="medium", locale=self.locale)

    def local_day(self, moment: datetime) -> str:
        """The date an instant falls on where the contact is."""
        return self.day(moment.astimezone(ZoneInfo(self.timezone)).date())

    def money(self, amount: Decimal, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    def number(self, amount: Decimal) -> str:
        return format_decimal(amount, format="#,##0.00", locale=self.locale)

    def amount(self, amount: Decimal, currency: str | None) -> str:
        """Money when the currency is known, else the plain number."""
        return self.money(amount, currency) if currency else self.number(amount)

    def totals(self, sums: dict[str, Decimal]) -> str:
        """Amounts in several currencies, never added together: "€1.00 and $2.00"."""
        return and_list([self.money(sums[c], c) for c in sorted(sums)])

    def moment(self, value: datetime) -> str:
        return format_datetime(
            value, format="medium", tzinfo=ZoneInfo(self.timezone), locale=self.locale
        ) + f" ({self.timezone})"

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


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def and_list(items: Iterable[str]) -> str:
    values = list(items)
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]
