"""accounts and contacts files: customers and the people allowed to ask for their invoices.

A column the file leaves out keeps its stored value on update (and its default on
create); an empty cell means the default. Rows absent from the file are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from vault import audit
from vault.ingest import fields as f
from vault.ingest.errors import ErrorLog
from vault.ingest.table import Row, Table
from vault.ingest.upsert import Upserts, chunks
from vault.models import Account, ChatLink, Contact

Values = dict[str, Any]


# Optional columns and how to read them; a column absent from the file keeps stored values.
ACCOUNT_OPTIONAL: dict[str, Any] = {
    "timezone": partial(f.timezone, default="UTC"),
    "locale": partial(f.locale, default="en"),
    "tier": lambda c, v: f.text(c, v or "standard", 32),
    "tax_id": partial(f.text, max_length=64),
    "address": partial(f.text, max_length=2000),
    "slack_team_id": f.slack_team,
    "step_up": f.step_up,
}
CONTACT_OPTIONAL: dict[str, Any] = {
    "name": partial(f.text, max_length=200),
    "role": f.role,
    "locale": partial(f.locale, default=""),
    "timezone": partial(f.timezone, default=""),
    "active": partial(f.boolean, default=True),
}


def take_optional(
    table: Table, cells: f.CellReader, columns: dict[str, Any], values: Values
) -> None:
    for column, parse in columns.items():
        if table.has(column):
            values[column] = cells.take(column, parse, "")


def parse_accounts(table: Table, rows: Iterable[Row], log: ErrorLog) -> dict[str, Values]:
    """account_id -> the model values the file gives, for rows without errors."""
    found: dict[str, Values] = {}
    first_line: dict[str, int] = {}
    for row in rows:
        cells = f.CellReader(row, log)
        values: Values = {
            "account_id": cells.take("account_id", f.identifier, ""),
            "name": cells.take("name", partial(f.text, max_length=200, required=True), ""),
        }
        take_optional(table, cells, ACCOUNT_OPTIONAL, values)
        key = values["account_id"]
        if key in first_line:
            log.add(row.line, f"account_id {key!r} was already given on line {first_line[key]}")
            continue
        first_line[key] = row.line
        if not cells.failed:
            found[key] = values
    return found


async def plan_accounts(found: dict[str, Values]) -> Upserts[Account]:
    existing: dict[str, Account] = {}
    for ids in chunks(list(found)):
        existing.update({a.account_id: a for a in await Account.filter(account_id__in=ids)})
    plan: Upserts[Account] = Upserts()
    for key, values in found.items():
        plan.add(Account, existing.get(key), values)
    return plan


def parse_contacts(
    table: Table, rows: Iterable[Row], log: ErrorLog, accounts: dict[str, int]
) -> dict[str, tuple[int, Values]]:
    """email -> (line, model values); `accounts` maps account_id to the stored account's id."""
    found: dict[str, tuple[int, Values]] = {}
    for row in rows:
        cells = f.CellReader(row, log)
        account = row.get("account_id")
        if account not in accounts:
            cells.failed = True
            log.add(row.line, f"account_id {account!r} is not a known account")
        values: Values = {
            "account_id": accounts.get(account, 0),
            "email": cells.take("email", f.email, ""),
        }
        take_optional(table, cells, CONTACT_OPTIONAL, values)
        email = values["email"]
        if email in found:
            log.add(row.line, f"email {email!r} was already given on line {found[email][0]}")
        elif not cells.failed:
            found[email] = (row.line, values)
    return found


async def plan_contacts(
    found: dict[str, tuple[int, Values]], accounts: dict[str, int], log: ErrorLog
) -> Upserts[Contact]:
    """A contact never moves to another account by import: that would hand one customer's
    invoices to someone who worked for another. Such rows are errors."""
    existing: dict[str, Contact] = {}
    for emails in chunks(list(found)):
        existing.update({c.email: c for c in await Contact.filter(email__in=emails)})
    plan: Upserts[Contact] = Upserts()
    account_of = {pk: key for key, pk in accounts.items()}
    for email, (line, values) in found.items():
        contact = existing.get(email)
        if contact is not None and contact.account_id != values["account_id"]:
            owner = account_of.get(contact.account_id, "?")
            log.add(line, f"email {email!r} is already a contact of account {owner!r}")
            continue
        plan.add(Contact, contact, values)
    return plan


async def account_ids() -> dict[str, int]:
    """Every account's external account_id -> its row id (accounts are few)."""
    rows = await Account.all().values_list("account_id", "id")
    return {str(key): int(pk) for key, pk in rows}


async def drop_chat_links_of_inactive() -> int:
    """A contact made inactive loses every linked chat at once: call inside the import's
    transaction, after the contacts are written. Each removal is audited."""
    links = await ChatLink.filter(contact__active=False).select_related("contact")
    for link in links:
        await audit.record(
            "vault.chat_link.removed", account_id=link.contact.account_id,
            contact_id=link.contact_id, platform=link.platform, reason="contact_inactive",
        )
    if links:
        await ChatLink.filter(id__in=[link.id for link in links]).delete()
    return len(links)
