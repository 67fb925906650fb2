"""Finding the invoice a contact means by a number written loosely, inside one account.

"INV-2026-0042", "inv 2026 42" and "inv-2026-42" all carry the digit groups (2026, 42);
we match on those, ignoring leading zeros. A shorter number ("#42", "INV-1042") matches
the invoices whose trailing groups it equals, but only when that is unambiguous. We never
guess: several matches come back as candidates, and when nothing matches, the account's
numbers that are nearly the one written come back as "did you mean". Every query goes
through the AccountScope, so another account's numbers are never found nor suggested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from vault.invoices import AccountScope
from vault.models import Invoice

MAX_CANDIDATES = 10
NEAR_EDITS = 1  # a typo: one character wrong, missing, extra, or two swapped (OSA distance)
NEAR_LIMIT = 3
_DIGITS = re.compile(r"\d+")
_LETTERS = re.compile(r"^[^A-Za-z]*([A-Za-z]*)")


@dataclass(frozen=True)
class Resolution:
    """Exactly one of: the invoice, several candidates, near misses, or nothing at all."""

    invoice: Invoice | None = None
    candidates: tuple[str, ...] = ()  # several invoices match: the contact must choose
    near: tuple[str, ...] = ()  # none matches; these numbers are close


def digit_groups(number: str) -> tuple[int, ...]:
    return tuple(int(group) for group in _DIGITS.findall(number))


def letter_prefix(number: str) -> str:
    match = _LETTERS.match(number)
    return match[1].upper() if match else ""


def canonical(prefix: str, digits: tuple[int, ...]) -> str:
    """"INV-2026-0042" and "inv 2026 42" both read INV-2026-42."""
    return "-".join([prefix.upper(), *map(str, digits)] if prefix else map(str, digits))


async def resolve(scope: AccountScope, text: str, prefix: str,
                  digits: tuple[int, ...]) -> Resolution:
    """The scope's invoice that `text` (prefix + digit groups) names, or why not."""
    exact = await scope.invoices().get_or_none(number=text.strip())
    if exact is not None:
        return Resolution(invoice=(await scope.seen([exact]))[0])
    if not digits:
        return Resolution(near=await _near(scope, prefix, digits, text))
    matches = await _by_digits(scope, prefix, digits)
    if len(matches) == 1:
        return Resolution(invoice=(await scope.seen(matches))[0])
    if matches:
        numbers = sorted((m.number for m in matches), reverse=True)
        return Resolution(candidates=tuple(numbers[:MAX_CANDIDATES]))
    return Resolution(near=await _near(scope, prefix, digits, text))


async def _by_digits(scope: AccountScope, prefix: str,
                     digits: tuple[int, ...]) -> list[Invoice]:
    # The last group narrows the scan in SQL ("42" is in "0042"); groups decide in Python.
    rows = await scope.invoices().filter(number__contains=str(digits[-1]))
    same = [r for r in rows if digit_groups(r.number) == digits]
    trailing = [r for r in rows if _ends_with(digit_groups(r.number), digits)]
    found = same or trailing
    if prefix and any(letter_prefix(r.number) == prefix for r in found):
        found = [r for r in found if letter_prefix(r.number) == prefix]
    return found


def _ends_with(groups: tuple[int, ...], tail: tuple[int, ...]) -> bool:
    return len(tail) < len(groups) and groups[-len(tail):] == tail


async def _near(scope: AccountScope, prefix: str, digits: tuple[int, ...],
                text: str) -> tuple[str, ...]:
    """This account's numbers that are nearly the one written (a typo, a digit swapped)."""
    wanted = canonical(prefix, digits) if digits else text.strip().upper()
    numbers = await scope.invoices().values_list("number", flat=True)
    choices = {str(n): canonical(letter_prefix(str(n)), digit_groups(str(n))) for n in numbers}
    scored = process.extract(wanted, choices, scorer=OSA.distance, score_cutoff=NEAR_EDITS,
                             limit=None)
    best = sorted(scored, key=lambda s: (s[1], str(s[2])))[:NEAR_LIMIT]  # ties: by number
    return tuple(str(key) for _, _, key in best)
