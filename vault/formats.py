"""Dates, numbers and money in a contact's locale and time zone (Babel); the words stay
English. Replies (bot) and alerts (notifier) format through this one class."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Self
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal


@dataclass(frozen=True)
class Formats:
    """The contact's locale and time zone, for every date and amount in a reply."""

    locale: str
    timezone: str

    @classmethod
    def of(cls, locale: str, timezone: str) -> Self:
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


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def and_list(items: Iterable[str]) -> str:
    values = list(items)
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]
