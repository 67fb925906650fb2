"""Amounts: "over 5000", "above €1,250.00", "under 100", "1.250,00 EUR", "$300".

A number is an amount only with a comparison word or a currency next to it, so "Q1 2025",
"invoice 1042" and "last 3 months" are never amounts. Separators: when both "," and "."
appear the last one is the decimal mark ("1,250.00", "1.250,00"); a single separator
followed by exactly three digits groups thousands ("1,000", "1.000"), otherwise it is the
decimal mark ("99,50"). "over" / "above" fill Filters.min_amount (strictly above),
"under" / "below" max_amount, "between 100 and 500" both, a bare currency amount
("€1,250.00") Filters.amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.language.patterns import phrase_body
from bot.language.relative import MANY_UNITS
from bot.language.text import Scan
from bot.language.vocabulary import INVOICE_MANY, INVOICE_ONE

MORE = ("over", "above", "more than", "greater than", "exceeding", "higher than", "uber",
        "mehr als", "grosser als", "hoher als", "plus de", "superieur a", "superieurs a",
        "au dessus de", "mas de", "mayor de", "mayor que", "mayores de", "mayores a",
        "por encima de", "oltre", "piu di", "sopra", "superiore a", "boven", "meer dan",
        "hoger dan", "groter dan", "acima de", "mais de", "superior a", ">")
LESS = ("under", "below", "less than", "lower than", "smaller than", "unter", "weniger als",
        "kleiner als", "unterhalb von", "moins de", "inferieur a", "inferieurs a",
        "en dessous de", "menos de", "menor de", "menor que", "menores de", "por debajo de",
        "sotto", "meno di", "inferiore a", "onder", "minder dan", "lager dan", "kleiner dan",
        "abaixo de", "inferior a", "<")
CURRENCIES = {
    "EUR": ("€", "eur", "euro", "euros"), "USD": ("$", "us$", "usd", "dollar", "dollars"),
    "GBP": ("£", "gbp", "pound", "pounds"), "CHF": ("chf", "franken"),
    "SEK": ("sek",), "NOK": ("nok",), "DKK": ("dkk",), "PLN": ("pln",), "CZK": ("czk",),
    "CAD": ("cad",), "AUD": ("aud",), "JPY": ("¥", "jpy"),
}
_ISO = {word: code for code, words in CURRENCIES.items() for word in words}
_CUR = phrase_body(*_ISO)
_NUM = r"\d{1,3}(?:[.,' ]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d)"
_AFTER_NUMBER = phrase_body(*INVOICE_ONE, *INVOICE_MANY,
                            *(word for words in MANY_UNITS.values() for word in words))
_NOT_AFTER = rf"(?![.,]?\d)(?!\s*(?:%|(?:{_AFTER_NUMBER})(?!\w)))"


def _amount(n: str) -> str:
    """One amount with its currency before or after; n keeps group names unique."""
    return (rf"(?:(?P<c1{n}>{_CUR})\s*)?(?P<num{n}>{_NUM})"
            rf"(?:\s*(?P<c2{n}>{_CUR})(?!\w))?{_NOT_AFTER}")


_ONE = re.compile(rf"(?<![\w.,])(?:(?P<more>{phrase_body(*MORE)})\s*|(?P<less>{phrase_body(*LESS)})"
                  rf"\s*)?{_amount('')}")
_BETWEEN = re.compile(rf"(?<!\w)(?:between|zwischen|entre|tra|tussen)\s+{_amount('a')}"
                      rf"\s+(?:and|und|et|y|e|en)\s+{_amount('b')}")


@dataclass(frozen=True)
class Amounts:
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    exact: Decimal | None = None
    currency: str | None = None


def read_amounts(scan: Scan) -> Amounts:
    if (between := scan.take_first(_BETWEEN)) is not None:
        low, high = _decimal(between["numa"]), _decimal(between["numb"])
        currency = _currency(between, "a") or _currency(between, "b")
        return Amounts(minimum=low, maximum=high, currency=currency)
    found: dict[str, Decimal | None] = {}
    currency = None
    for match in list(scan.find(_ONE)):
        written_currency = _currency(match, "")
        if not (match["more"] or match["less"] or written_currency):
            continue
        scan.mask(match.start(), match.end())
        key = "minimum" if match["more"] else "maximum" if match["less"] else "exact"
        found.setdefault(key, _decimal(match["num"]))
        currency = currency or written_currency
    return Amounts(found.get("minimum"), found.get("maximum"), found.get("exact"), currency)


def _currency(match: re.Match[str], n: str) -> str | None:
    word = match[f"c1{n}"] or match[f"c2{n}"]
    return None if word is None else _ISO[word]


def _decimal(text: str) -> Decimal | None:
    plain = text.replace(" ", "").replace("'", "")
    if "," in plain and "." in plain:
        decimal_mark = "," if plain.rfind(",") > plain.rfind(".") else "."
    elif "," in plain or "." in plain:
        mark = "," if "," in plain else "."
        groups = plain.split(mark)
        decimal_mark = mark if len(groups) == 2 and len(groups[1]) != 3 else ""
    else:
        decimal_mark = ""
    grouping = {",", "."} - {decimal_mark}
    for separator in grouping:
        plain = plain.replace(separator, "")
    try:
        return Decimal(plain.replace(decimal_mark, ".") if decimal_mark else plain)
    except InvalidOperation:
        return None
