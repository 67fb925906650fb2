"""[access] beyond sessions: step-up (a code before documents leave) and the rules that
watch how a contact's page and links are used. Validated like the rest of the config;
vault.config calls `step_up_config` while it builds [access].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from vault.config import ConfigError, parse_duration
from vault.config_sources import Origins, whole_number
from vault.vocabulary import StepUp


@dataclass(frozen=True)
class WatchRules:
    """When a contact's access becomes an AR item (see vault.access_watch)."""

    baseline: timedelta = timedelta(days=28)
    factor: int = 10
    downloads_floor: int = 50
    views_floor: int = 300
    networks_within: timedelta = timedelta(minutes=10)
    refused_codes: int = 10
    quiet: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class StepUpRules:
    """Who must type a code, and how long a browser that did is remembered."""

    default: StepUp = StepUp.NEVER
    tiers: dict[str, StepUp] = field(default_factory=dict)
    remember_device: timedelta = timedelta(days=30)
    watch: WatchRules = field(default_factory=WatchRules)

    def level(self, account_step_up: str, tier: str) -> StepUp:
        """The account's own setting, else its tier's, else the global default."""
        if account_step_up:
            return StepUp(account_step_up)
        return self.tiers.get(tier, self.default)


def step_level(value: Any, where: str) -> StepUp:
    text = str(value).strip().lower()
    if text not in StepUp._value2member_map_:
        raise ConfigError(f"{where}: {value!r} is not one of "
                          f"{', '.join(s.value for s in StepUp)}")
    return StepUp(text)


def _tiers(value: Any, where: str) -> dict[str, StepUp]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list like [\"gold=downloads\"], got {value!r}")
    tiers: dict[str, StepUp] = {}
    for item in value:
        tier, sep, level = item.partition("=")
        if not sep or not tier.strip():
            raise ConfigError(f"{where}: {item!r} is not TIER=LEVEL (e.g. gold=downloads)")
        tiers[tier.strip()] = step_level(level, where)
    return tiers


def step_up_config(section: dict[str, Any], at: Origins) -> StepUpRules:
    def where(key: str) -> str:
        return at("access", key)

    watch = WatchRules(
        baseline=parse_duration(section["watch_baseline"], where("watch_baseline")),
        factor=whole_number(section["watch_factor"], where("watch_factor")),
        downloads_floor=whole_number(section["watch_downloads_floor"],
                                     where("watch_downloads_floor")),
        views_floor=whole_number(section["watch_views_floor"], where("watch_views_floor")),
        networks_within=parse_duration(section["watch_networks_within"],
                                       where("watch_networks_within")),
        refused_codes=whole_number(section["watch_refused_codes"], where("watch_refused_codes")),
        quiet=parse_duration(section["watch_quiet"], where("watch_quiet")))
    if watch.baseline < timedelta(days=1):
        raise ConfigError(f"{where('watch_baseline')}: at least 1d (a daily average)")
    return StepUpRules(
        default=step_level(section["step_up"], where("step_up")),
        tiers=_tiers(section["step_up_tiers"], where("step_up_tiers")),
        remember_device=parse_duration(section["remember_device"], where("remember_device")),
        watch=watch)
