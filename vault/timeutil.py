"""Time in one place: aware UTC everywhere (Tortoise's use_tz), local only for display."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_in(tz_name: str) -> date:
    """Today's date where the contact is; a month 'not in the future' depends on it."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(tz_name or "UTC")).date()
