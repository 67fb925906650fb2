"""credit-notes files: one row per line item, rows with the same credit_note_number are one
credit note (vault.ingest.grouped), stored by the one writer of credit notes
(vault.ingest.credit_notes) as the API's are.

A credit note without line items is one row with an `amount` (credited without tax, as
the row states nothing else); with line items, each row gives description, quantity,
unit_price (and tax_rate), and `amount`, when given, must be their total with tax. An
`invoice_number` allocates the credit to that invoice of the same account; left empty,
the credit is unallocated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial

from vault.ingest import fields as f
from vault.ingest.credit_notes import CreditNoteDraft
from vault.ingest.drafts import LineDraft
from vault.ingest.errors import ErrorLog
from vault.ingest.grouped import Group, Layout, group_rows, line_item
from vault.ingest.table import Row
from vault.vocabulary import Source

LINE_COLUMNS = ("description", "quantity", "unit_price", "tax_rate")


@dataclass(frozen=True)
class _Header:
    """The cells that describe the credit note rather than a line (named as the columns)."""

    account_id: str
    invoice_number: str
    issue_date: date
    currency: str
    amount: Decimal | None
    reason: str


def parse_credit_notes(rows: Iterable[Row], log: ErrorLog) -> list[CreditNoteDraft]:
    """The credit notes of the file, in order of first appearance; only those without errors."""
    groups = group_rows(rows, log, LAYOUT)
    return [_draft(number, g) for number, g in groups.items() if not g.failed]


def _header(cells: f.CellReader) -> _Header:
    given = cells.row.get("amount")
    return _Header(
        account_id=cells.take("account_id", f.identifier, ""),
        invoice_number=cells.take("invoice_number", _optional_identifier, ""),
        issue_date=cells.take("issue_date", f.iso_date, date.min),
        currency=cells.take("currency", f.currency, ""),
        amount=cells.take("amount", f.money, Decimal(0)) if given else None,
        reason=cells.take("reason", partial(f.text, max_length=2000), ""),
    )


def _optional_identifier(column: str, value: str) -> str:
    return f.identifier(column, value) if value else ""


def _line(cells: f.CellReader) -> LineDraft | None:
    """The row's line item, or None for a row that gives none (an amount-only note)."""
    if not any(cells.row.get(c) for c in LINE_COLUMNS):
        return None
    return line_item(cells)


def _draft(number: str, group: Group[_Header]) -> CreditNoteDraft:
    assert group.header is not None  # a group without a valid header has failed
    header = group.header
    return CreditNoteDraft(
        line=group.header_line, account=header.account_id, number=number,
        invoice_number=header.invoice_number or None, issue_date=header.issue_date,
        currency=header.currency, amount=header.amount, reason=header.reason,
        lines=tuple(group.lines), source=Source.CSV)


LAYOUT = Layout("credit note", "credit_note_number", _Header, _header, _line)
