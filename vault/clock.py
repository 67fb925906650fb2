"""The one clock: every "now" and "today" in invoicebot is read here.

The service owns one Clock and hands it to the pipeline, the inboxes, chat, the notifier
and PDF stamping; `invoicebot ask --today DATE` and tests hand a fixed one. Times are
aware UTC (Tortoise's use_tz); a local date only for what a contact means by "March".
Nothing outside this module calls datetime.now() or date.today() (tests/test_clock.py
greps for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class Clock:
    """The system clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self, tz_name: str = "UTC") -> date:
        """Today's date where the contact is; a month 'not in the future' depends on it."""
        return self.now().astimezone(ZoneInfo(tz_name or "UTC")).date()

    @property
    def as_of(self) -> date | None:
        """The day answers are given as of, when not today (None: live data)."""
        return None


@dataclass
class FixedClock(Clock):
    """A clock that reads `at` until moved: for tests and for answering as of a past day."""

    at: datetime
    past: bool = False  # answering as of a past day: data after it is left out

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by

    @property
    def as_of(self) -> date | None:
        return self.at.date() if self.past else None

    @classmethod
    def on(cls, day: date, *, past: bool = False) -> FixedClock:
        """Midday UTC of `day`, so the date is the same in every time zone people use."""
        return cls(datetime.combine(day, time(12, 0), tzinfo=UTC), past=past)


SYSTEM = Clock()
