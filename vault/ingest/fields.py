"""Cell parsers: each turns one CSV cell into a typed value or raises FieldError.

Messages name the column and quote the value, so an operator can find and fix the cell.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies

from vault.ingest.drafts import CENT
from vault.ingest.errors import ErrorLog
from vault.ingest.table import Row
from vault.models import InvoiceStatus, Role
from vault.vocabulary import StepUp

T = TypeVar("T")

# The largest number the money columns (18 digits, 2 decimals) hold, with room for sums.
MAX_AMOUNT = Decimal("1e14")

# ASCII digits only (\d would admit other scripts' digits, which Decimal also accepts).
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_COMMA_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+),[0-9]+")
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_SLACK_TEAM = re.compile(r"[TE][A-Z0-9]{2,31}")
# What no text column can hold: control characters other than tab and line breaks (NUL
# above all: PostgreSQL refuses it in text, SQLite cuts strings at it in places) and
# surrogates, which are not characters and cannot be written as UTF-8.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# The same rule as a JSON Schema pattern (ECMA syntax) for the API's OpenAPI document.
STORABLE_PATTERN = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$"
_PLACES = {n: Decimal(1).scaleb(-n) for n in range(7)}
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
FILE_STATUSES = ("", InvoiceStatus.VOID.value, InvoiceStatus.DISPUTED.value)


class FieldError(ValueError):
    """One bad cell; the message is ready to show after "file line N: "."""


def storable(column: str, value: str) -> str:
    """The value, if every character of it can be stored as text."""
    if (bad := _UNSTORABLE.search(value)) is not None:
        raise FieldError(f"{column} contains the control character U+{ord(bad[0]):04X} at "
                         f"position {bad.start() + 1}, which cannot be stored")
    return value


def text(column: str, value: str, max_length: int, *, required: bool = False) -> str:
    storable(column, value)
    if required and not value:
        raise FieldError(f"{column} is empty")
    if len(value) > max_length:
        raise FieldError(f"{column} is longer than {max_length} characters")
    return value


def identifier(column: str, value: str) -> str:
    """An account_id or invoice number: required, at most 64 characters."""
    return text(column, value, 64, required=True)


def iso_date(column: str, value: str) -> date:
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(f"{column} {value!r} is not a date (YYYY-MM-DD)") from None


def number(column: str, value: str, *, places: int) -> Decimal:
    """A decimal with a dot and at most `places` decimals; "1,5", "1e3" and "NaN" are refused."""
    if not _DECIMAL.fullmatch(value):
        raise FieldError(f"{column} {value!r} is not a number (digits with a dot, e.g. "
                         f"12.50){_comma_hint(value)}")
    parsed = Decimal(value)
    if abs(parsed) >= MAX_AMOUNT:  # first: quantizing a huge number exceeds the precision
        raise FieldError(f"{column} {value!r} is too large")
    if parsed != parsed.quantize(_PLACES[places]):
        raise FieldError(f"{column} {value!r} has more than {places} decimals")
    return parsed


def _comma_hint(value: str) -> str:
    """For "12,50" or "1.234,50": how to import a file written with decimal commas."""
    if _COMMA_DECIMAL.fullmatch(value):
        return "; if the file writes decimal commas, import it with --decimal-comma"
    return ""


def money(column: str, value: str) -> Decimal:
    """An amount, rounded half-up to the cent."""
    if not _DECIMAL.fullmatch(value):
        raise FieldError(f"{column} {value!r} is not an amount (digits with a dot, e.g. "
                         f"12.50){_comma_hint(value)}")
    if abs(Decimal(value)) >= MAX_AMOUNT:  # first: a huge number cannot be quantized
        raise FieldError(f"{column} {value!r} is too large")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def tax_rate(column: str, value: str) -> Decimal:
    if not value:
        return Decimal(0)
    rate = number(column, value, places=3)
    if not Decimal(0) <= rate <= Decimal(100):
        raise FieldError(f"{column} {value!r} is not a percentage between 0 and 100")
    return rate


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def currency(column: str, value: str) -> str:
    code = value.upper()
    if code not in _currencies():
        raise FieldError(f"{column} {value!r} is not an ISO 4217 currency code")
    return code


def timezone(column: str, value: str, default: str) -> str:
    if not value:
        return default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError(f"{column} {value!r} is not a time zone (e.g. Europe/Berlin)") from None
    return value


def locale(column: str, value: str, default: str) -> str:
    if not value:
        return default
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        raise FieldError(f"{column} {value!r} is not a locale (e.g. de_DE)") from None


def email(column: str, value: str) -> str:
    """Exactly one bare address (no display name, no list), lower-cased."""
    if not value:
        raise FieldError(f"{column} is empty")
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise FieldError(f"{column} {value!r} is not one email address (name@example.com)")
    return value.lower()


def role(column: str, value: str) -> Role:
    try:
        return Role(value.lower() or Role.AP)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise FieldError(f"{column} {value!r} is not one of {choices}") from None


def step_up(column: str, value: str) -> str:
    """never, downloads, session; empty: the tier's or the global access.step_up."""
    lowered = value.strip().lower()
    if lowered and lowered not in StepUp._value2member_map_:
        choices = ", ".join(s.value for s in StepUp)
        raise FieldError(f"{column} {value!r} is not one of {choices} (or empty)")
    return lowered


def boolean(column: str, value: str, default: bool) -> bool:
    lowered = value.lower()
    if not lowered:
        return default
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise FieldError(f"{column} {value!r} is not true/false (also 1/0, yes/no)")


def slack_team(column: str, value: str) -> str:
    """A Slack workspace id (T0123ABCD), or empty for "any workspace"."""
    if value and not _SLACK_TEAM.fullmatch(value):
        raise FieldError(f"{column} {value!r} is not a Slack team id (e.g. T0123ABCD)")
    return value


def file_status(column: str, value: str) -> str:
    lowered = value.lower()
    if lowered not in FILE_STATUSES:
        raise FieldError(f"{column} {value!r} must be void, disputed or empty")
    return lowered


class CellReader:
    """Parses the cells of one row, logging every bad cell (not just the first).

    `take` returns `fallback` for a bad cell so parsing can go on; check `failed` after.
    """

    def __init__(self, row: Row, log: ErrorLog) -> None:
        self.row = row
        self.log = log
        self.failed = False

    def take(self, column: str, parse: Callable[[str, str], T], fallback: T) -> T:
        try:
            return parse(column, self.row.get(column))
        except FieldError as exc:
            self.failed = True
            self.log.add(self.row.line, str(exc))
            return fallback
