"""Reading a CSV file into rows keyed by column, with each row's physical line number.

The file is UTF-8 (a byte-order mark is accepted) with a header row. Column names are
matched case-insensitively; unknown and missing columns are refused before any row is read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vault.ingest.errors import ErrorLog

KINDS = ("accounts", "contacts", "invoices", "payments")

# kind -> (required columns, optional columns), as documented in INTERFACES.md.
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accounts": (
        ("account_id", "name"),
        ("timezone", "locale", "tier", "tax_id", "address", "slack_team_id"),
    ),
    "contacts": (("account_id", "email"), ("name", "role", "locale", "timezone", "active")),
    "invoices": (
        (
            "account_id", "invoice_number", "issue_date", "due_date", "currency",
            "description", "quantity", "unit_price",
        ),
        ("tax_rate", "entity", "po_number", "status"),
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


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[Row]

    def has(self, column: str) -> bool:
        return column in self.columns


def read_table(path: Path, kind: str, log: ErrorLog) -> Table:
    """The file's rows; problems go to `log` (the caller stops if it is not empty)."""
    text = _decode(path, log)
    if text is None:
        return Table((), [])
    records = _records(text)
    header = next(records, None)
    if header is None:
        log.add(None, "the file is empty (expected a header row)")
        return Table((), [])
    columns = tuple(c.strip().lower() for c in header[1])
    if not _check_columns(kind, columns, log):
        return Table(columns, [])
    return Table(columns, list(_rows(columns, records, log)))


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


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, cells) of each non-blank record; quoted cells may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""))
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
        log.add(1, f"unknown column(s) {', '.join(unknown)} (a {kind} file has {known})")
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


def _rows(
    columns: tuple[str, ...], records: Iterator[tuple[int, list[str]]], log: ErrorLog
) -> Iterator[Row]:
    for line, cells in records:
        if len(cells) > len(columns) and not any(c.strip() for c in cells[len(columns) :]):
            cells = cells[: len(columns)]  # trailing empty cells, as some spreadsheets write
        if len(cells) != len(columns):
            log.add(line, f"has {len(cells)} cells but the header has {len(columns)} columns")
            continue
        yield Row(line, {c: v.strip() for c, v in zip(columns, cells, strict=True)})
