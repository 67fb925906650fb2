"""invoices files: one row per line item; rows with the same invoice_number are one invoice
(vault.ingest.grouped). Every row of an invoice must agree on its header (account, dates,
currency, entity, PO number, status).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial

from vault.ingest import fields as f
from vault.ingest.drafts import InvoiceDraft
from vault.ingest.errors import ErrorLog
from vault.ingest.grouped import Group, Layout, group_rows, line_item
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


def parse_invoices(rows: Iterable[Row], log: ErrorLog) -> list[InvoiceDraft]:
    """The invoices of the file, in order of first appearance; only those without errors."""
    groups = group_rows(rows, log, LAYOUT)
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


def _draft(number: str, group: Group[_Header]) -> InvoiceDraft:
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


LAYOUT = Layout("invoice", "invoice_number", _Header, _header, line_item)
