"""Files with one row per line item: rows with the same document number are one document
(invoices and credit notes). Every row of a document must agree on its header; lines keep
the order of the file."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from functools import partial
from typing import Any, Generic, TypeVar

from vault.ingest import fields as f
from vault.ingest.drafts import LineDraft
from vault.ingest.errors import ErrorLog
from vault.ingest.table import Row

H = TypeVar("H")  # a frozen dataclass of the header cells, named as their columns


@dataclass
class Group(Generic[H]):
    """The rows of one document seen so far."""

    header: H | None = None
    header_line: int = 0
    raw_header: tuple[str, ...] = ()
    lines: list[LineDraft] = field(default_factory=list)
    source_lines: list[int] = field(default_factory=list)
    failed: bool = False


@dataclass(frozen=True)
class Layout(Generic[H]):
    """How a kind of document spreads over rows."""

    what: str  # "invoice", "credit note": for messages
    number_column: str
    header_type: type[H]
    read_header: Callable[[f.CellReader], H]
    read_line: Callable[[f.CellReader], LineDraft | None]  # None: the row has no line

    @property
    def header_columns(self) -> tuple[str, ...]:
        return (self.number_column, *(c.name for c in fields(self.header_type)))  # type: ignore[arg-type]


def line_item(cells: f.CellReader) -> LineDraft:
    """The line item a row gives (description, quantity, unit_price, tax_rate)."""
    line = LineDraft(
        description=cells.take(
            "description", partial(f.text, max_length=2000, required=True), ""
        ),
        quantity=cells.take("quantity", partial(f.number, places=4), Decimal(0)),
        unit_price=cells.take("unit_price", partial(f.number, places=4), Decimal(0)),
        tax_rate=cells.take("tax_rate", f.tax_rate, Decimal(0)),
    )
    if abs(line.amount) >= f.MAX_AMOUNT:
        cells.failed = True
        cells.log.add(cells.row.line, "quantity × unit_price is too large")
    return line


def group_rows(rows: Iterable[Row], log: ErrorLog, layout: Layout[H]) -> dict[str, Group[H]]:
    """The documents of the file by number, in order of first appearance (failed ones too:
    check `failed`)."""
    groups: dict[str, Group[H]] = {}
    for row in rows:
        number = row.get(layout.number_column)
        group = groups.setdefault(number, Group())
        raw_header = tuple(row.get(c) for c in layout.header_columns)
        if raw_header != group.raw_header:  # the same cells as before need no second look
            header_cells = f.CellReader(row, log)
            header_cells.take(layout.number_column, f.identifier, "")
            header = layout.read_header(header_cells)
            if not header_cells.failed:
                _add_header(layout, number, row.line, header, group, log)
                group.raw_header = raw_header
            group.failed |= header_cells.failed
        line_cells = f.CellReader(row, log)
        line = layout.read_line(line_cells)
        if line is not None:
            group.lines.append(line)
        group.failed |= line_cells.failed
        group.source_lines.append(row.line)
    return groups


def _add_header(layout: Layout[H], number: str, line: int, header: H, group: Group[H],
                log: ErrorLog) -> None:
    """Keep the first valid header of the document; every later one must equal it."""
    if group.header is None:
        group.header, group.header_line = header, line
        return
    if header == group.header:
        return
    for column in (c.name for c in fields(layout.header_type)):  # type: ignore[arg-type]
        value: Any = getattr(header, column)
        first: Any = getattr(group.header, column)
        if value != first:
            group.failed = True
            log.add(line, f"{layout.what} {number}: {column} {str(value)!r} differs from "
                          f"{str(first)!r} on line {group.header_line} (all rows of one "
                          f"{layout.what} must agree)")
