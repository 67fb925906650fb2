"""Dates, numbers and money in a contact's locale and time zone (Babel), and the words in
the answer's language (vault.i18n). Replies (bot), alerts (notifier) and documents
(invoice and statement PDFs) format through this one class, so the language travels with
the locale along the same path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Self
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, get_timezone_location, get_timezone_name
from babel.numbers import format_currency, format_decimal, format_percent

from vault.i18n import SOURCE_LANGUAGE, Catalogue, catalogue, language_of


@dataclass(frozen=True)
class Formats:
    """A reader's locale and time zone, for every date and amount they read; a document's
    currency too, where amounts are all in one (an invoice, a statement section); and the
    language their words are in (a catalogue language of vault.i18n; English unless the
    caller chose one: the locale formats, the language speaks, and they may differ)."""

    locale: str
    timezone: str = "UTC"
    currency: str = ""
    language: str = SOURCE_LANGUAGE

    @classmethod
    def of(cls, locale: str, timezone: str = "UTC", currency: str = "",
           language: str = SOURCE_LANGUAGE) -> Self:
        try:
            Locale.parse(locale or "en")
        except (UnknownLocaleError, ValueError):
            locale = "en"
        return cls(locale=locale or "en", timezone=timezone or "UTC", currency=currency,
                   language=language_of(language))

    @property
    def words(self) -> Catalogue:
        """What the bot writes (email, Slack, Telegram), in this reader's language."""
        return catalogue(self.language, "messages")

    def and_list(self, items: Iterable[str]) -> str:
        """"a, b and c" in the reader's language."""
        values = list(items)
        if len(values) <= 1:
            return "".join(values)
        return self.words.gettext("{items} and {last}").format(
            items=", ".join(values[:-1]), last=values[-1])

    def or_list(self, items: Iterable[str]) -> str:
        """"a, b or c" in the reader's language."""
        values = list(items)
        if len(values) <= 1:
            return "".join(values)
        return self.words.gettext("{items} or {last}").format(
            items=", ".join(values[:-1]), last=values[-1])

    def day(self, value: date) -> str:
        return format_date(value, format="medium", locale=self.locale)

    def local_day(self, moment: datetime) -> str:
        """The date an instant falls on where the contact is."""
        return self.day(moment.astimezone(ZoneInfo(self.timezone)).date())

    def money(self, amount: Decimal, currency: str | None = None) -> str:
        """In `currency`, else the document's."""
        return format_currency(amount, currency or self.currency, locale=self.locale)

    def price(self, value: Decimal) -> str:
        """Unit prices keep extra decimals (0.0125) but drop trailing zeros beyond cents."""
        return format_currency(value.normalize(), self.currency, locale=self.locale,
                               decimal_quantization=False)

    def quantity(self, value: Decimal) -> str:
        return format_decimal(value.normalize(), locale=self.locale, decimal_quantization=False)

    def rate(self, percent: Decimal) -> str:
        return format_percent((percent / 100).normalize(), locale=self.locale,
                              decimal_quantization=False)

    def number(self, amount: Decimal) -> str:
        return format_decimal(amount, format="#,##0.00", locale=self.locale)

    def amount(self, amount: Decimal, currency: str | None) -> str:
        """Money when the currency is known, else the plain number."""
        return self.money(amount, currency) if currency else self.number(amount)

    def totals(self, sums: dict[str, Decimal]) -> str:
        """Amounts in several currencies, never added together: "€1.00 and $2.00"."""
        return self.and_list([self.money(sums[c], c) for c in sorted(sums)])

    def moment(self, value: datetime) -> str:
        """An instant where the contact is: "21 Nov 2026, 10:00:00 (Greenwich Mean Time)"."""
        zone = ZoneInfo(self.timezone)
        return format_datetime(value, format="medium", tzinfo=zone, locale=self.locale) \
            + f" ({self.zone(value.astimezone(zone))})"

    def zone(self, at: datetime | None = None) -> str:
        """The contact's time zone as people read it, in their language:
        at an instant its name then ("Eastern Standard Time"), else the generic one
        ("Eastern Time"), never the tz database id ("America/New_York")."""
        if self.timezone in _UTC_NAMES:
            return "UTC"
        named = at if at is not None else ZoneInfo(self.timezone)
        # Babel's fallback for a zone without a name ("Etc/GMT+5") is "Unknown Region
        # (X) Time" (told apart in English); such zones keep one offset, which any
        # instant names ("GMT-05:00").
        candidates = (named, None, datetime(2000, 1, 1, tzinfo=ZoneInfo(self.timezone)))
        for moment in candidates:
            if not _zone_name(self.timezone, moment, "en").startswith("Unknown"):
                break
        return _zone_name(self.timezone, moment, self.language)

    def period(self, start: date, end: date) -> str:
        """A period as people say it: "March 2026", "Q1 2026", "2025", else a date range."""
        if start.day == 1 and end == _month_end(start):
            # Babel's stand-alone month ("März 2026", "mars 2026"), in the language
            return format_date(start, format="LLLL y", locale=self.language)
        if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) \
                and start.year == end.year:
            return str(start.year)
        if start.day == 1 and start.month % 3 == 1 and end == _month_end(_months_on(start, 2)):
            return self.words.gettext("Q{quarter} {year}").format(
                quarter=start.month // 3 + 1, year=start.year)
        return f"{self.day(start)} – {self.day(end)}"


def _zone_name(timezone: str, moment: datetime | ZoneInfo | None, language: str) -> str:
    """A zone's long name at `moment` (or its generic one), or its location if None."""
    if moment is None:
        return str(get_timezone_location(ZoneInfo(timezone), locale=language))
    return str(get_timezone_name(moment, width="long", locale=language))


_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal",
                        "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"})


def quoted(text: str) -> str:
    """Someone's words quoted back to them with typographic quotes, never a Python repr
    ('it\\'s' or "\\n" would show escapes, and the quote marks would flip)."""
    return f"\u201c{' '.join(text.split())}\u201d"


def _months_on(day: date, months: int) -> date:
    """The first of the month `months` after day's month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(day: date) -> date:
    return _months_on(day, 1) - timedelta(days=1)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def a_or_an(word: str) -> str:
    """The article before `word`, by its first letter: "an invoices file", "a payments
    file" (good enough for the words we write; not for "an hour" or "a user")."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def and_list(items: Iterable[str]) -> str:
    values = list(items)
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]
