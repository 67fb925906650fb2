"""Reading a CSV file into rows keyed by column, with each row's physical line number.

The file is UTF-8 (a byte-order mark is accepted) with a header row. Cells are separated
by commas, semicolons or tabs: the header decides (the separator that makes the most known
column names), so a spreadsheet's "CSV" in a European locale imports as it is. Column
names are matched case-insensitively; unknown and missing columns are refused before any
row is read. A row with too few or too many cells is reported and the others are still
checked. With `decimal_comma`, numbers are read as "1.234,50" (see decimal_comma_cell).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vault.formats import a_or_an
from vault.ingest.errors import ErrorLog

# In the order a feed folder takes them: what a row refers to is imported before it.
KINDS = ("accounts", "contacts", "invoices", "credit-notes", "payments")

# kind -> (required columns, optional columns), as documented in INTERFACES.md.
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accounts": (
        ("account_id", "name"),
        ("timezone", "locale", "tier", "tax_id", "address", "slack_team_id",
         "step_up"),
    ),
    "contacts": (("account_id", "email"), ("name", "role", "locale", "timezone", "active")),
    "invoices": (
        (
            "account_id", "invoice_number", "issue_date", "due_date", "currency",
            "description", "quantity", "unit_price",
        ),
        ("tax_rate", "entity", "po_number", "status"),
    ),
    "credit-notes": (
        ("account_id", "credit_note_number", "issue_date", "currency"),
        ("invoice_number", "amount", "reason", "description", "quantity", "unit_price",
         "tax_rate"),
    ),
    "payments": (("account_id", "invoice_number", "amount", "paid_on"), ("reference", "method")),
}


@dataclass(frozen=True)
class Row:
    """One record of the file: `line` is where it starts (the header is line 1)."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The stripped cell, or "" when the column is absent from this file."""
        return self.cells.get(column, "")


DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
NUMBER_COLUMNS = frozenset({"quantity", "unit_price", "tax_rate", "amount"})
# "1234,5", "1.234,50", "-0,125": what a decimal-comma spreadsheet writes.
_COMMA_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]+)?")


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[Row]
    usable: bool = True  # False: the file or its header is wrong, rows were not read

    def has(self, column: str) -> bool:
        return column in self.columns


def read_table(path: Path, kind: str, log: ErrorLog, *, decimal_comma: bool = False) -> Table:
    """The file's rows; problems go to `log`. Rows of the wrong width are left out (and
    logged); the table is not `usable` when the header itself is wrong."""
    text = _decode(path, log)
    if text is None:
        return Table((), [], usable=False)
    delimiter = _sniff(text, kind)
    records = _records(text, delimiter)
    header = next(records, None)
    if header is None:
        log.add(None, "the file is empty (expected a header row)")
        return Table((), [], usable=False)
    columns = tuple(c.strip().lower() for c in header[1])
    if not _check_columns(kind, columns, log):
        return Table(columns, [], usable=False)
    rows = _rows(columns, records, log)
    if decimal_comma:
        rows = (r for r in (_with_decimal_points(row, log) for row in rows) if r is not None)
    return Table(columns, list(rows))


def _sniff(text: str, kind: str) -> str:
    """The separator that turns the header into the most known column names (comma on a
    tie, and when none does: the header is then reported with a hint)."""
    first = text.split("\n", 1)[0]
    required, optional = COLUMNS[kind]
    known = set(required + optional)

    def score(delimiter: str) -> int:
        cells = next(csv.reader([first], delimiter=delimiter), [])
        return sum(c.strip().lower() in known for c in cells)

    return max(DELIMITERS, key=score)


def _decode(path: Path, log: ErrorLog) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        log.add(None, f"cannot read the file: {exc.strerror or exc}")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        log.add(line, "is not UTF-8 text (save the file as CSV UTF-8)")
        return None


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, cells) of each non-blank record; quoted cells may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for cells in reader:
        if any(c.strip() for c in cells):
            yield start, cells
        start = reader.line_num + 1


def _check_columns(kind: str, columns: tuple[str, ...], log: ErrorLog) -> bool:
    required, optional = COLUMNS[kind]
    ok = True
    unknown = [c for c in columns if c not in required + optional]
    if unknown:
        known = ", ".join(required + optional)
        log.add(1, f"unknown column(s) {', '.join(unknown)} ({a_or_an(kind)} {kind} file "
                   f"has {known}){_separator_hint(unknown)}")
        ok = False
    missing = [c for c in required if c not in columns]
    if missing:
        log.add(1, f"missing required column(s) {', '.join(missing)}")
        ok = False
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        log.add(1, f"column(s) {', '.join(duplicates)} appear more than once")
        ok = False
    return ok


def _separator_hint(unknown: list[str]) -> str:
    """When a "column" is several names glued by another character (account_id|name), say
    which separators are read."""
    glued = next((c for c in unknown if re.search(r"[a-z_]+[^a-z_ ]+[a-z_]+", c)), None)
    if glued is None:
        return ""
    mark = re.search(r"[a-z_]+([^a-z_ ]+)[a-z_]+", glued)
    shown = repr(mark[1]) if mark else "another character"
    return (f"; the header looks separated by {shown}: save the file with commas, "
            "semicolons or tabs between the cells")


def _rows(
    columns: tuple[str, ...], records: Iterator[tuple[int, list[str]]], log: ErrorLog
) -> Iterator[Row]:
    for line, cells in records:
        if len(cells) > len(columns) and not any(c.strip() for c in cells[len(columns) :]):
            cells = cells[: len(columns)]  # trailing empty cells, as some spreadsheets write
        if len(cells) < len(columns):
            log.add(line, f"has {len(cells)} cells but the header has {len(columns)} columns "
                          f"(missing: {', '.join(columns[len(cells):])})")
            continue
        if len(cells) > len(columns):
            log.add(line, f"has {len(cells)} cells but the header has {len(columns)} columns "
                          "(a separator inside a cell? quote that cell)")
            continue
        yield Row(line, {c: v.strip() for c, v in zip(columns, cells, strict=True)})


def _with_decimal_points(row: Row, log: ErrorLog) -> Row | None:
    """The row with its numbers rewritten with decimal points; None (and logged) if one
    of them is not written with a decimal comma."""
    cells = dict(row.cells)
    for column in sorted(NUMBER_COLUMNS.intersection(cells)):
        value = cells[column]
        if not value:
            continue
        if not _COMMA_NUMBER.fullmatch(value):
            log.add(row.line, f"{column} {value!r} is not a number with a decimal comma "
                              "(e.g. 1.234,50), as --decimal-comma says the file has")
            return None
        cells[column] = decimal_comma_cell(value)
    return Row(row.line, cells)


def decimal_comma_cell(value: str) -> str:
    """"1.234,50" -> "1234.50": dots group thousands, the comma marks decimals."""
    return value.replace(".", "").replace(",", ".")
