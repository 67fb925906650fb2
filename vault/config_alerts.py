"""The alert and digest settings ([notifier] and [ar]), validated like the rest of the config.

Kept apart from vault.config so that module stays short; vault.config calls
`alerts_config` while building the Config, so a bad value stops start-up the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from vault.config import ConfigError, parse_duration
from vault.config_sources import Origins
from vault.vocabulary import EscalationKind

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class AlertsConfig:
    due_soon_days: int = 3  # "due soon" this many days before the due date
    digest_time: time = time(8, 0)  # contacts' digests, in each contact's time zone
    digest_weekday: int = 0  # weekly digests: 0 = Monday
    default_quiet_hours: tuple[time, time] | None = None  # for contacts without their own
    ar_digest_at: time = time(8, 0)  # in the seller's time zone
    escalate_at_once: frozenset[EscalationKind] = frozenset({EscalationKind.DISPUTE,
                                                             EscalationKind.PERSON})
    ar_slack_channel: str = ""  # also post the AR digest to this Slack channel id
    # Only events that happened this recently are alerted; older ones (an imported
    # history) are recorded and never alerted. notifier.alerts.is_news applies it.
    alert_window: timedelta = timedelta(days=7)


def parse_clock(value: Any, where: str) -> time:
    """HH:MM, 24-hour."""
    match = _CLOCK.match(str(value).strip())
    if not match:
        raise ConfigError(f"{where}: {value!r} is not a time of day (use HH:MM, e.g. 08:00)")
    return time(int(match[1]), int(match[2]))


def parse_quiet_hours(value: Any, where: str) -> tuple[time, time] | None:
    """"20:00-07:00" (may wrap past midnight) or "" for none."""
    text = str(value).strip()
    if not text:
        return None
    start, sep, end = text.partition("-")
    if not sep:
        raise ConfigError(f"{where}: {value!r} is not a range of hours (use e.g. 20:00-07:00)")
    quiet = (parse_clock(start.strip(), where), parse_clock(end.strip(), where))
    if quiet[0] == quiet[1]:
        raise ConfigError(f"{where}: {value!r} starts and ends at the same time")
    return quiet


def alerts_config(m: dict[str, dict[str, Any]], at: Origins) -> AlertsConfig:
    notifier, ar = m["notifier"], m["ar"]
    return AlertsConfig(
        due_soon_days=_days(notifier["due_soon_days"], at("notifier", "due_soon_days")),
        digest_time=parse_clock(notifier["digest_time"], at("notifier", "digest_time")),
        digest_weekday=_weekday(notifier["digest_weekday"], at("notifier", "digest_weekday")),
        default_quiet_hours=parse_quiet_hours(
            notifier["default_quiet_hours"], at("notifier", "default_quiet_hours")
        ),
        ar_digest_at=parse_clock(ar["digest_at"], at("ar", "digest_at")),
        escalate_at_once=_kinds(ar["escalate_at_once"], at("ar", "escalate_at_once")),
        ar_slack_channel=str(ar["slack_channel"]).strip(),
        alert_window=_window(notifier["alert_window"], at("notifier", "alert_window")),
    )


def _window(value: Any, where: str) -> timedelta:
    window = parse_duration(value, where)
    if not window:
        raise ConfigError(f"{where}: {value!r} would alert nothing; to turn alerts off set "
                          "notifier.enabled = false")
    return window


def _days(value: Any, where: str) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not 0 < int(text) <= 60:
        raise ConfigError(f"{where}: {value!r} must be a whole number of days from 1 to 60")
    return int(text)


def _weekday(value: Any, where: str) -> int:
    text = str(value).strip().lower()
    if text not in WEEKDAYS:
        raise ConfigError(f"{where}: {value!r} is not a weekday (monday ... sunday)")
    return WEEKDAYS.index(text)


def _kinds(value: Any, where: str) -> frozenset[EscalationKind]:
    """What AR may want at once rather than in the morning digest."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    allowed = {kind.value for kind in EscalationKind.at_once_allowed()}
    unknown = sorted(set(value) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise ConfigError(f"{where}: unknown kind {unknown[0]!r} (known: {known})")
    return frozenset(EscalationKind(v) for v in value)
