"""`invoicebot import KIND FILE`: check a whole CSV file, then write it in one transaction.

Reading, checking and planning (which reads the database in batches) happen first and
outside any transaction; if any row is bad, ImportFailed lists every problem (the first
MAX_ERRORS, then how many more) and nothing is written. Otherwise the writes run as one
short transaction, so the service sharing the SQLite file waits for at most that burst.
Re-importing an unchanged file writes nothing but its audit row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from vault import audit, metrics
from vault.clock import Clock
from vault.ingest.accounts import (
    account_ids,
    drop_chat_links_of_inactive,
    parse_accounts,
    parse_contacts,
    plan_accounts,
    plan_contacts,
)
from vault.ingest.credit_note_csv import parse_credit_notes
from vault.ingest.credit_notes import apply_credit_note_plan, plan_credit_notes
from vault.ingest.errors import ErrorLog, ImportFailed, ImportResult, RowError
from vault.ingest.invoice_csv import parse_invoices
from vault.ingest.invoice_store import apply_invoice_plan, plan_invoices
from vault.ingest.payments import apply_payment_plan, parse_payments, plan_payments
from vault.ingest.progress import ImportProgress
from vault.ingest.table import KINDS, Row, Table, read_table
from vault.ingest.upsert import Upserts
from vault.models import Account, Contact

__all__ = ["KINDS", "ImportFailed", "ImportResult", "OnIssued", "RowError", "import_csv"]

OnIssued = Callable[[list[int]], Awaitable[None]]


@dataclass(frozen=True)
class Planned:
    """What the file will change, and the function that writes it (inside a transaction)."""

    created: int
    updated: int
    unchanged: int
    write: Callable[[], Awaitable[list[int]]]


async def import_csv(
    kind: str,
    path: str | Path,
    *,
    clock: Clock,
    timezone: str = "UTC",
    on_issued: OnIssued | None = None,
    progress: bool | ImportProgress = True,
    decimal_comma: bool = False,
    on_credited: OnIssued | None = None,
) -> ImportResult:
    """Import one file of `kind` (accounts, contacts, invoices, credit-notes, payments).

    The clock's today in `timezone` (the seller's) decides overdue; its now stamps the
    rows and events written.
    `on_issued(ids)` is awaited after the commit with the invoices created or changed, so
    their PDFs can be rendered; it is called for invoice files only. `on_credited(ids)`
    is the same for the credit notes of a credit-notes file.
    `progress`: on a terminal or not at all (True/False), or the caller's display (which
    may also count the PDFs `on_issued` renders); it is closed when the import ends.
    `decimal_comma`: the file writes numbers as 1.234,50.
    Raises ImportFailed (nothing written) or ValueError for an unknown kind.
    """
    if kind not in KINDS:
        raise ValueError(f"KIND must be one of {', '.join(KINDS)}, not {kind!r}")
    path = Path(path)
    bar = progress if isinstance(progress, ImportProgress) else ImportProgress(
        path.name, enabled=progress)
    try:
        planned = await _check(kind, path, bar, clock.today(timezone), clock.now(),
                               decimal_comma)
        bar.writing()
        async with in_transaction():
            written = await planned.write()  # ids of the invoices, or credit notes, to render
            # Last, with the final counts. The plan's first statement already was a write,
            # so SQLite took the write lock at once (waiting up to busy_timeout).
            counts: dict[str, Any] = {_WRITTEN.get(kind, "invoices_changed"): len(written)}
            await audit.record(
                "vault.import.completed", kind=kind, file=path.name, created=planned.created,
                updated=planned.updated, unchanged=planned.unchanged, **counts,
            )
        then = {"invoices": on_issued, "credit-notes": on_credited}.get(kind)
        if then is not None and written:
            await then(written)
    finally:
        bar.close()
    metrics.rows_ingested(kind, planned.created, planned.updated, planned.unchanged)
    changed = [] if kind == "credit-notes" else written
    return ImportResult(kind, planned.created, planned.updated, planned.unchanged, changed)


_WRITTEN = {"credit-notes": "credit_notes_changed"}  # the audit row's name for the count


async def _check(
    kind: str, path: Path, bar: ImportProgress, today: date, now: datetime,
    decimal_comma: bool,
) -> Planned:
    """Read, check and plan the whole file; raises ImportFailed listing every problem
    (rows of the wrong width too: the other rows are still checked)."""
    log = ErrorLog()
    table = read_table(path, kind, log, decimal_comma=decimal_comma)
    if not table.usable:
        raise ImportFailed(path.name, log.report())
    planned = await _PLANNERS[kind](table, bar.rows(table.rows), log, today, now)
    if log:
        raise ImportFailed(path.name, log.report())
    return planned


async def _accounts(
    table: Table, rows: Iterable[Row], log: ErrorLog, today: date, now: datetime
) -> Planned:
    plan = await plan_accounts(parse_accounts(table, rows, log))
    return Planned(*plan.counts(), partial(_write, plan, Account))


async def _contacts(
    table: Table, rows: Iterable[Row], log: ErrorLog, today: date, now: datetime
) -> Planned:
    accounts = await account_ids()
    plan = await plan_contacts(parse_contacts(table, rows, log, accounts), accounts, log)
    return Planned(*plan.counts(), partial(_write_contacts, plan))


async def _write(plan: Upserts[Any], model: type[Model]) -> list[int]:
    await plan.write(model)
    return []


async def _write_contacts(plan: Upserts[Contact]) -> list[int]:
    await plan.write(Contact)
    await drop_chat_links_of_inactive()
    return []


async def _invoices(
    table: Table, rows: Iterable[Row], log: ErrorLog, today: date, now: datetime
) -> Planned:
    plan = await plan_invoices(parse_invoices(rows, log), await account_ids(), log, today, now)
    return Planned(plan.created, plan.updated, plan.unchanged,
                   partial(apply_invoice_plan, plan, now))


async def _payments(
    table: Table, rows: Iterable[Row], log: ErrorLog, today: date, now: datetime
) -> Planned:
    plan = await plan_payments(parse_payments(rows, log), await account_ids(), log)
    return Planned(*plan.payments.counts(), partial(apply_payment_plan, plan, today, now))


async def _credit_notes(
    table: Table, rows: Iterable[Row], log: ErrorLog, today: date, now: datetime
) -> Planned:
    plan = await plan_credit_notes(parse_credit_notes(rows, log), await account_ids(), log)
    return Planned(len(plan.created), len(plan.updated), len(plan.unchanged),
                   partial(apply_credit_note_plan, plan, today, now))


_PLANNERS: dict[
    str, Callable[[Table, Iterable[Row], ErrorLog, date, datetime], Awaitable[Planned]]
] = {
    "accounts": _accounts,
    "contacts": _contacts,
    "invoices": _invoices,
    "credit-notes": _credit_notes,
    "payments": _payments,
}
