"""Where each configuration value comes from: the file, an INVOICEBOT_* variable, or a default.

Kept apart from vault.config (which validates values) because an operator's first question
about a wrong value is "where did it come from?": every error names that place, a misspelt
variable is an error instead of being silently ignored, and `invoicebot config check` prints
each value beside its source.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "INVOICEBOT_"
# INVOICEBOT_* variables that are not a section.key override. The test database URL is the
# suite's own (tests/conftest.py); an operator's environment never needs it, but a developer
# who exported it must still be able to run the CLI.
OTHER_VARIABLES = ("INVOICEBOT_CONFIG", "INVOICEBOT_SECRET_KEYS", "INVOICEBOT_SMTP_USERNAME",
                   "INVOICEBOT_SMTP_PASSWORD",
                   # the suite's own: its database, its vaults' kind (file or s3), and where
                   # browser tests put screenshots
                   "INVOICEBOT_TEST_DATABASE_URL", "INVOICEBOT_TEST_VAULT",
                   "INVOICEBOT_SCREENSHOTS")


class ConfigError(ValueError):
    """A bad or missing configuration value; the message names where and what."""


def whole_number(value: Any, where: str) -> int:
    """A whole number >= 1, from TOML (an integer) or the environment (its digits)."""
    text = value.strip() if isinstance(value, str) else None
    number = int(text) if text is not None and text.isdigit() else value
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ConfigError(f"{where}: expected a whole number of at least 1, got {value!r}")
    return number


def env_name(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}_{key.upper()}"


@dataclass(frozen=True)
class Origins:
    """Names the place a value was set, for error messages: called as at("links", "ttl")."""

    path: str
    from_file: frozenset[tuple[str, str]] = frozenset()
    from_env: frozenset[tuple[str, str]] = frozenset()
    explicit_file: bool = field(default=False)  # named by --config or INVOICEBOT_CONFIG

    def __call__(self, section: str, key: str) -> str:
        if (section, key) in self.from_env:
            return f"{env_name(section, key)} (environment)"
        if (section, key) in self.from_file:
            return f"{self.path}: {section}.{key}"
        return f"{section}.{key} (default)"

    def kind(self, section: str, key: str) -> str:
        """'env', 'file' or 'default', for `config check`."""
        if (section, key) in self.from_env:
            return f"env {env_name(section, key)}"
        if (section, key) in self.from_file:
            return f"file {self.path}"
        return "default"


def config_path(path: str | Path | None, env: Mapping[str, str]) -> tuple[Path, bool]:
    """The file to read, and whether someone named it (then it must exist)."""
    named = path or env.get("INVOICEBOT_CONFIG")
    return Path(named or "config.toml"), bool(named)


def read_toml(path: Path, must_exist: bool) -> dict[str, Any]:
    if not path.exists():
        if must_exist:
            raise ConfigError(f"{path}: config file not found")
        return {}  # no ./config.toml: the defaults are a working demo
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from exc


def merge(raw: dict[str, Any], defaults: dict[str, dict[str, Any]], source: str
          ) -> tuple[dict[str, dict[str, Any]], frozenset[tuple[str, str]]]:
    """The defaults overlaid with the file; unknown sections and keys are errors."""
    merged = {section: dict(keys) for section, keys in defaults.items()}
    seen: set[tuple[str, str]] = set()
    for section, keys in raw.items():
        if section not in defaults or not isinstance(keys, dict):
            raise ConfigError(f"{source}: unknown section [{section}]; known: {sorted(defaults)}")
        for key, value in keys.items():
            if key not in defaults[section]:
                known = ", ".join(sorted(defaults[section]))
                raise ConfigError(f"{source}: unknown key {section}.{key} (known: {known})")
            merged[section][key] = value
            seen.add((section, key))
    return merged, frozenset(seen)


def apply_env(merged: dict[str, dict[str, Any]], defaults: dict[str, dict[str, Any]],
              env: Mapping[str, str]) -> frozenset[tuple[str, str]]:
    """Overlay INVOICEBOT_<SECTION>_<KEY> variables; a misspelt one is an error, not ignored."""
    known = {env_name(section, key): (section, key)
             for section, keys in defaults.items() for key in keys}
    _refuse_unknown(env, set(known) | set(OTHER_VARIABLES))
    applied = set()
    for name, (section, key) in known.items():
        if name in env:
            merged[section][key] = _coerce(env[name], defaults[section][key], name)
            applied.add((section, key))
    return frozenset(applied)


def _refuse_unknown(env: Mapping[str, str], known: set[str]) -> None:
    unknown = sorted(name for name in env if name.startswith(ENV_PREFIX) and name not in known)
    if not unknown:
        return
    name = unknown[0]
    # Compared without the prefix every name shares, which would make anything look near.
    bare = {known_name.removeprefix(ENV_PREFIX): known_name for known_name in known}
    near = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), sorted(bare), n=1, cutoff=0.75)
    hint = f"; did you mean {bare[near[0]]}?" if near else ""
    raise ConfigError(f"{name} (environment): not a setting invoicebot knows{hint}")


def _coerce(text: str, like: Any, where: str) -> Any:
    if isinstance(like, bool):
        lowered = text.strip().lower()
        if lowered not in {"true", "false", "1", "0", "yes", "no"}:
            raise ConfigError(f"{where} (environment): {text!r} is not true or false")
        return lowered in {"true", "1", "yes"}
    if isinstance(like, list):
        return [item.strip() for item in text.split(",") if item.strip()]
    return text
