"""CSV cells a spreadsheet will not run: OWASP's rule against formula injection.

Text we did not write ourselves (a User-Agent, an invoice number from an import) can start
with `=`, `+`, `-`, `@`, a tab or a CR, which Excel and LibreOffice read as a formula.
Such a cell gets a leading `'`, which spreadsheets show as text. Numbers are written as
they are: a negative amount is data, and it is never a string here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def safe_cell(value: object) -> object:
    """The value, or the text with a leading `'` when a spreadsheet would run it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """csv.writer whose rows go through safe_cell."""

    def __init__(self, out: _Writable, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])
