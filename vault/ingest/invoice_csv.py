"""invoices files: one row per line item; rows with the same invoice_number are one invoice.

Every row of an invoice must agree on its header (account, dates, currency, entity,
PO number, status); lines keep the order of the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from functools import partial

from vault.ingest import fields as f
from vault.ingest.drafts import InvoiceDraft, LineDraft
from vault.ingest.errors import ErrorLog
from vault.ingest.table import Row


@dataclass(frozen=True)
class _Header:
    """The cells that describe the invoice rather than the line (named as the columns)."""

    account_id: str
    issue_date: date
    due_date: date
    currency: str
    entity: str
    po_number: str
    status: str


_HEADER_COLUMNS = ("invoice_number", *(c.name for c in fields(_Header)))


@dataclass
class _Group:
    """The rows of one invoice seen so far."""

    header: _Header | None = None
    header_line: int = 0
    raw_header: tuple[str, ...] = ()
    lines: list[LineDraft] = field(default_factory=list)
    source_lines: list[int] = field(default_factory=list)
    failed: bool = False


def parse_invoices(rows: Iterable[Row], log: ErrorLog) -> list[InvoiceDraft]:
    """The invoices of the file, in order of first appearance; only those without errors."""
    groups: dict[str, _Group] = {}
    for row in rows:
        number = row.get("invoice_number")
        group = groups.setdefault(number, _Group())
        raw_header = tuple(row.get(c) for c in _HEADER_COLUMNS)
        if raw_header != group.raw_header:  # the same cells as before need no second look
            header_cells = f.CellReader(row, log)
            header_cells.take("invoice_number", f.identifier, "")
            header = _header(header_cells)
            if not header_cells.failed:
                _add_header(number, row.line, header, group, log)
                group.raw_header = raw_header
            group.failed |= header_cells.failed
        line_cells = f.CellReader(row, log)
        group.lines.append(_line(line_cells))
        group.failed |= line_cells.failed
        group.source_lines.append(row.line)
    return [_draft(number, g) for number, g in groups.items() if not g.failed]


def _header(cells: f.CellReader) -> _Header:
    """The header cells of one row; also checks due_date >= issue_date."""
    header = _Header(
        account_id=cells.take("account_id", f.identifier, ""),
        issue_date=cells.take("issue_date", f.iso_date, date.min),
        due_date=cells.take("due_date", f.iso_date, date.max),
        currency=cells.take("currency", f.currency, ""),
        entity=cells.take("entity", partial(f.text, max_length=200), ""),
        po_number=cells.take("po_number", partial(f.text, max_length=64), ""),
        status=cells.take("status", f.file_status, ""),
    )
    if header.due_date < header.issue_date:
        cells.failed = True
        cells.log.add(
            cells.row.line, f"due_date {header.due_date} is before issue_date {header.issue_date}"
        )
    return header


def _line(cells: f.CellReader) -> LineDraft:
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


def _add_header(number: str, line: int, header: _Header, group: _Group, log: ErrorLog) -> None:
    """Keep the first valid header of the invoice; every later one must equal it."""
    if group.header is None:
        group.header, group.header_line = header, line
        return
    if header == group.header:
        return
    for column in (c.name for c in fields(_Header)):
        value, first = getattr(header, column), getattr(group.header, column)
        if value != first:
            group.failed = True
            log.add(
                line,
                f"invoice {number}: {column} {str(value)!r} differs from {str(first)!r} "
                f"on line {group.header_line} (all rows of one invoice must agree)",
            )


def _draft(number: str, group: _Group) -> InvoiceDraft:
    assert group.header is not None  # a group without a valid header has failed
    header = group.header
    return InvoiceDraft(
        account=header.account_id,
        number=number,
        issue_date=header.issue_date,
        due_date=header.due_date,
        currency=header.currency,
        lines=tuple(group.lines),
        entity=header.entity,
        po_number=header.po_number,
        file_status=header.status,
        source_lines=tuple(group.source_lines),
    )
