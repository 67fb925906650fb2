"""`invoicebot import`: what an operator sees in the database after importing CSV files."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from vault.clock import SYSTEM, FixedClock
from vault.demo import load_demo
from vault.ingest import fields as f
from vault.ingest.csv import ImportFailed, ImportResult, import_csv
from vault.ingest.drafts import InvoiceDraft, LineDraft, compute_totals
from vault.ingest.invoice_store import upsert_invoices
from vault.ingest.progress import ImportProgress
from vault.models import (
    Account,
    AuditEvent,
    ChatLink,
    Contact,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    Role,
)

DATA = Path(__file__).parent / "data"
TODAY = date(2026, 1, 20)  # INV-1001 and INV-2001 are not yet due
CLOCK = FixedClock.on(TODAY)  # never moved
KINDS = ("accounts", "contacts", "invoices", "payments")


async def load(*kinds: str, today: date = TODAY) -> list[ImportResult]:
    clock = FixedClock.on(today)
    return [await import_csv(k, DATA / f"{k}.csv", clock=clock, progress=False) for k in kinds]


def variant(tmp_path: Path, kind: str, old: str, new: str, name: str = "") -> Path:
    """A copy of the fixture file for `kind` with `old` replaced by `new`."""
    text = (DATA / f"{kind}.csv").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / (name or f"{kind}.csv")
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def counts() -> tuple[int, ...]:
    return tuple(
        [await m.all().count() for m in (Account, Contact, Invoice, InvoiceLine, Payment)]
    )


async def failure(kind: str, path: Path) -> list[str]:
    with pytest.raises(ImportFailed) as caught:
        await import_csv(kind, path, clock=CLOCK, progress=False)
    return str(caught.value).splitlines()


# ---- each kind ------------------------------------------------------------------------------

async def test_accounts_import_with_their_optional_columns(orm: str) -> None:
    [result] = await load("accounts")
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    acme = await Account.get(account_id="ACME")
    assert (acme.name, acme.timezone, acme.locale, acme.tier) == (
        "ACME Freight GmbH", "Europe/Berlin", "de_DE", "gold"
    )
    assert acme.address == "Hafenstraße 12\n20457 Hamburg"
    globex = await Account.get(account_id="GLOBEX")
    assert (globex.locale, globex.tier) == ("en_US", "standard")


async def test_contacts_import_lowercased_with_roles_and_active_flag(orm: str) -> None:
    await load("accounts", "contacts")
    anna = await Contact.get(email="ap@acme.example")
    assert (anna.role, anna.active, anna.locale) == (Role.AP, True, "")
    carl = await Contact.get(email="controller@acme.example")
    assert (carl.role, carl.timezone) == (Role.APPROVER, "Europe/Berlin")
    gina = await Contact.get(email="ap@globex.example")
    assert (gina.role, gina.active) == (Role.AP, False)
    assert gina.account_id == (await Account.get(account_id="GLOBEX")).id


async def test_invoice_rows_with_one_number_form_one_invoice_with_totals(orm: str) -> None:
    await load("accounts")
    [result] = await load("invoices")
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    invoice = await Invoice.get(number="INV-1001")
    # 2 × 450.00 at 19 % = 171.00 tax; 35.50 at 7 % = 2.485, rounded half-up to 2.49
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("935.50"), Decimal("173.49"), Decimal("1108.99")
    )
    assert (invoice.po_number, invoice.entity) == ("PO-77", "ACME Freight GmbH")
    assert invoice.status == InvoiceStatus.OPEN
    lines = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")
    assert [(line.description, line.amount) for line in lines] == [
        ("Road freight Hamburg-Berlin", Decimal("900.00")), ("Customs handling", Decimal("35.50"))
    ]
    assert (await Invoice.get(number="INV-2001")).currency == "USD"


async def test_tax_is_totalled_per_rate_and_rounded_half_up() -> None:
    lines = (
        LineDraft("a", Decimal(1), Decimal("0.05"), Decimal(7)),
        LineDraft("b", Decimal(1), Decimal("0.05"), Decimal(7)),
        LineDraft("c", Decimal("0.5"), Decimal("0.01"), Decimal(19)),
    )
    totals = compute_totals(lines)
    # 7 %: 0.10 → 0.007 → 0.01 (one rounding per rate, not 0.00 + 0.00 per line)
    assert totals.taxes == {Decimal(7): Decimal("0.01"), Decimal(19): Decimal("0.00")}
    assert (totals.subtotal, totals.total) == (Decimal("0.11"), Decimal("0.12"))


async def test_payments_make_invoices_paid_and_partially_paid(orm: str) -> None:
    await load("accounts", "invoices")
    [result] = await load("payments")
    assert (result.created, result.kind) == (2, "payments")
    paid = await Invoice.get(number="INV-1001")
    partly = await Invoice.get(number="INV-2001")
    assert (paid.status, paid.amount_paid) == (InvoiceStatus.PAID, Decimal("1108.99"))
    assert (partly.status, partly.amount_paid) == (InvoiceStatus.PARTIALLY_PAID, Decimal("500.00"))
    assert sorted(result.changed_invoice_ids) == sorted([paid.id, partly.id])
    keys = set(await Payment.all().values_list("natural_key", flat=True))
    assert keys == {"INV-1001|ref:TX-1", "INV-2001|2026-02-01|500.00"}


async def test_overdue_is_derived_from_the_date_given(orm: str) -> None:
    await load("accounts", "invoices", "payments", today=date(2026, 3, 1))
    assert (await Invoice.get(number="INV-2001")).status == InvoiceStatus.OVERDUE
    assert (await Invoice.get(number="INV-1001")).status == InvoiceStatus.PAID


async def test_void_and_disputed_come_from_the_file(orm: str) -> None:
    await load("accounts", "invoices")
    assert (await Invoice.get(number="INV-1002")).status == InvoiceStatus.DISPUTED
    assert (await Invoice.get(number="INV-2002")).status == InvoiceStatus.VOID


async def test_a_byte_order_mark_is_accepted(orm: str, tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (DATA / "accounts.csv").read_bytes())
    result = await import_csv("accounts", path, progress=False, clock=SYSTEM)
    assert result.created == 2


async def test_each_import_writes_one_audit_row(orm: str) -> None:
    await load("accounts")
    [event] = await AuditEvent.filter(action="vault.import.completed")
    assert event.data["kind"] == "accounts"
    assert event.data["file"] == "accounts.csv"
    assert (event.data["created"], event.data["updated"]) == (2, 0)


@pytest.mark.parametrize("value", ["1,5", "1e3", "NaN", "12.", ".5", "\u0661\u0662", "1 000"])
def test_numbers_need_ascii_digits_and_a_dot(value: str) -> None:
    with pytest.raises(f.FieldError, match="is not a number"):
        f.number("quantity", value, places=4)


@pytest.mark.parametrize("value", ["1" + "0" * 40, "9" * 40 + ".5", "-" + "1" * 35])
def test_a_number_with_more_digits_than_decimal_holds_is_too_large(value: str) -> None:
    # Found by schemathesis through the API: quantizing it raised decimal.InvalidOperation.
    with pytest.raises(f.FieldError, match="is too large"):
        f.number("quantity", value, places=4)
    with pytest.raises(f.FieldError, match="is too large"):
        f.money("amount", value)


def test_cells_are_normalized() -> None:
    assert f.money("amount", "10.005") == Decimal("10.01")  # half-up to the cent
    assert f.number("quantity", "1.50000", places=4) == Decimal("1.5")
    assert f.currency("currency", "eur") == "EUR"
    assert f.locale("locale", "de-DE", default="en") == "de_DE"
    assert f.email("email", "AP@Acme.Example") == "ap@acme.example"
    assert f.boolean("active", "No", default=True) is False
    with pytest.raises(f.FieldError, match="more than 4 decimals"):
        f.number("quantity", "1.00001", places=4)
    with pytest.raises(f.FieldError, match="not a time zone"):
        f.timezone("timezone", "../etc/passwd", default="UTC")


# ---- idempotency and updates ----------------------------------------------------------------

async def test_importing_the_same_files_twice_changes_nothing(orm: str) -> None:
    await load(*KINDS)
    before = await Invoice.all().order_by("id").values_list("id", "updated_at", "status")
    line_ids = await InvoiceLine.all().values_list("id", flat=True)
    for result in await load(*KINDS):
        assert (result.created, result.updated, result.changed_invoice_ids) == (0, 0, [])
        assert result.unchanged > 0
    assert await Invoice.all().order_by("id").values_list("id", "updated_at", "status") == before
    assert await InvoiceLine.all().values_list("id", flat=True) == line_ids


async def test_a_changed_row_updates_lines_totals_and_status(orm: str, tmp_path: Path) -> None:
    await load("accounts", "invoices", "payments")
    acme = await Invoice.get(number="INV-1001")
    assert acme.status == InvoiceStatus.PAID
    issued: list[list[int]] = []

    async def on_issued(ids: list[int]) -> None:
        issued.append(ids)

    changed = variant(tmp_path, "invoices", "handling,1,35.50", "handling,2,35.50")
    result = await import_csv(
        "invoices", changed, clock=CLOCK, on_issued=on_issued, progress=False
    )
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    assert issued == [[acme.id]] == [result.changed_invoice_ids]
    updated = await Invoice.get(number="INV-1001")
    # 900.00 + 71.00 net; 171.00 + 4.97 tax
    assert (updated.subtotal, updated.total) == (Decimal("971.00"), Decimal("1146.97"))
    assert updated.status == InvoiceStatus.PARTIALLY_PAID  # the payment no longer covers it
    assert updated.updated_at > acme.updated_at
    assert await InvoiceLine.filter(invoice_id=acme.id).count() == 2


async def test_on_issued_runs_after_commit_with_new_invoices(orm: str) -> None:
    await load("accounts")
    seen: list[str] = []

    async def on_issued(ids: list[int]) -> None:
        numbers = Invoice.filter(id__in=ids).order_by("number").values_list("number", flat=True)
        seen.extend(await numbers)

    await import_csv(
        "invoices", DATA / "invoices.csv", clock=CLOCK, on_issued=on_issued, progress=False
    )
    assert seen == ["INV-1001", "INV-1002", "INV-2001", "INV-2002"]


async def test_a_changed_account_column_updates_it(orm: str, tmp_path: Path) -> None:
    await load("accounts")
    path = variant(tmp_path, "accounts", "America/New_York", "America/Chicago")
    result = await import_csv("accounts", path, progress=False, clock=SYSTEM)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert (await Account.get(account_id="GLOBEX")).timezone == "America/Chicago"


# ---- rejected files -------------------------------------------------------------------------

async def test_bad_rows_are_reported_with_line_and_reason_and_nothing_is_written(orm: str) -> None:
    await load("accounts")
    before = await counts()
    errors = await failure("invoices", DATA / "invoices_bad.csv")
    assert errors == [
        "invoices_bad.csv line 4: quantity '1,5' is not a number (digits with a dot, e.g. 12.50);"
        " if the file writes decimal commas, import it with --decimal-comma",
        "invoices_bad.csv line 5: currency 'XYZ' is not an ISO 4217 currency code",
        "invoices_bad.csv line 5: status 'paid' must be void, disputed or empty",
        "invoices_bad.csv line 5: due_date 2026-01-30 is before issue_date 2026-01-31",
        "invoices_bad.csv line 6: account_id is empty",
        "invoices_bad.csv line 7: due_date '2026-02-30' is not a date (YYYY-MM-DD)",
    ]
    assert await counts() == before
    assert await AuditEvent.filter(action="vault.import.completed").count() == 1  # accounts


async def test_line_numbers_count_physical_lines_of_quoted_cells(orm: str, tmp_path: Path) -> None:
    path = variant(tmp_path, "accounts", "America/New_York", "Mars/Olympus")
    # the address of ACME spans lines 2-3, so GLOBEX's row is line 4
    assert await failure("accounts", path) == [
        "accounts.csv line 4: timezone 'Mars/Olympus' is not a time zone (e.g. Europe/Berlin)"
    ]


async def test_rows_of_one_invoice_must_agree_on_the_account(orm: str, tmp_path: Path) -> None:
    await load("accounts")
    path = variant(tmp_path, "invoices", "ACME,INV-1001,2026-01-05,2026-02-04,EUR,Customs",
                   "GLOBEX,INV-1001,2026-01-05,2026-02-04,EUR,Customs")
    assert await failure("invoices", path) == [
        "invoices.csv line 3: invoice INV-1001: account_id 'GLOBEX' differs from 'ACME' on line 2 "
        "(all rows of one invoice must agree)"
    ]
    assert await Invoice.all().count() == 0


async def test_an_invoice_number_of_another_account_is_refused(orm: str, tmp_path: Path) -> None:
    await load("accounts", "invoices")
    path = write(tmp_path, "invoices.csv", (
        "account_id,invoice_number,issue_date,due_date,currency,description,quantity,unit_price\n"
        "GLOBEX,INV-1001,2026-01-05,2026-02-04,USD,Consulting,1,10.00\n"
    ))
    assert await failure("invoices", path) == [
        "invoices.csv line 2: invoice_number 'INV-1001' already belongs to another account "
        "(invoice numbers are unique across the seller)"
    ]
    acme = await Account.get(account_id="ACME")
    assert (await Invoice.get(number="INV-1001")).account_id == acme.id


async def test_unknown_and_missing_columns_are_named(orm: str, tmp_path: Path) -> None:
    path = write(tmp_path, "contacts.csv", "account_id,e_mail,phone\nACME,a@b.example,1\n")
    errors = await failure("contacts", path)
    assert errors[0].startswith(
        "contacts.csv line 1: unknown column(s) e_mail, phone (a contacts file has"
    )
    assert errors[1] == "contacts.csv line 1: missing required column(s) email"


async def test_rows_must_name_known_accounts(orm: str) -> None:
    errors = await failure("contacts", DATA / "contacts.csv")
    assert errors[0] == "contacts.csv line 2: account_id 'ACME' is not a known account"
    assert len(errors) == 3


async def test_a_contact_never_moves_to_another_account(orm: str, tmp_path: Path) -> None:
    await load("accounts", "contacts")
    path = write(tmp_path, "contacts.csv", "account_id,email\nGLOBEX,ap@acme.example\n")
    assert await failure("contacts", path) == [
        "contacts.csv line 2: email 'ap@acme.example' is already a contact of account 'ACME'"
    ]


async def test_emails_must_be_one_address(orm: str, tmp_path: Path) -> None:
    await load("accounts")
    path = write(tmp_path, "contacts.csv", (
        "account_id,email,active\n"
        'ACME,"a@acme.example, b@acme.example",yes\n'
        "ACME,Anna <a@acme.example>,maybe\n"
    ))
    assert await failure("contacts", path) == [
        "contacts.csv line 2: email 'a@acme.example, b@acme.example' is not one email address "
        "(name@example.com)",
        "contacts.csv line 3: email 'Anna <a@acme.example>' is not one email address "
        "(name@example.com)",
        "contacts.csv line 3: active 'maybe' is not true/false (also 1/0, yes/no)",
    ]


async def test_payments_must_match_the_accounts_invoice_and_be_positive(
    orm: str, tmp_path: Path
) -> None:
    await load("accounts", "invoices")
    path = write(tmp_path, "payments.csv", (
        "account_id,invoice_number,amount,paid_on\n"
        "GLOBEX,INV-1001,10.00,2026-01-10\n"
        "ACME,INV-1001,0,2026-01-10\n"
        "ACME,INV-9999,5.00,2026-01-10\n"
        "ACME,INV-1001,5.00,2026-01-10\n"
        "ACME,INV-1001,5.001,2026-01-10\n"
    ))
    assert await failure("payments", path) == [
        "payments.csv line 3: amount '0' must be greater than 0",
        "payments.csv line 6: the same payment as line 5 (give a reference)",
        "payments.csv line 2: invoice_number 'INV-1001' is not an invoice of account 'GLOBEX'",
        "payments.csv line 4: invoice_number 'INV-9999' is not an invoice of account 'ACME'",
    ]
    assert await Payment.all().count() == 0


async def test_fifty_errors_are_shown_and_the_rest_counted(orm: str, tmp_path: Path) -> None:
    rows = "".join(f"ACME,INV-{n},2026-01-01,2026-01-31,EUR,x,one,1\n" for n in range(80))
    path = write(tmp_path, "invoices.csv", (
        "account_id,invoice_number,issue_date,due_date,currency,description,quantity,unit_price\n"
        + rows
    ))
    errors = await failure("invoices", path)
    assert len(errors) == 51
    assert errors[49].startswith("invoices.csv line 51: quantity 'one' is not a number")
    assert errors[-1] == "invoices.csv: and 30 more problems (the first 50 are shown)"


async def test_a_file_that_is_not_utf8_names_the_line(orm: str, tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes("account_id,name\nACME,Caf\u00e9\n".encode("latin-1"))
    assert await failure("accounts", path) == [
        "accounts.csv line 2: is not UTF-8 text (save the file as CSV UTF-8)"
    ]


# ---- long files -----------------------------------------------------------------------------

async def test_a_long_file_imports_in_batches(orm: str, tmp_path: Path) -> None:
    await load("accounts")
    rows = "".join(
        f"ACME,INV-{n // 3},2026-01-01,2026-01-31,EUR,line {n % 3},{n % 7 + 1},1.25,19\n"
        for n in range(6000)
    )
    header = (
        "account_id,invoice_number,issue_date,due_date,currency,description,quantity,"
        "unit_price,tax_rate\n"
    )
    path = write(tmp_path, "invoices.csv", header + rows)
    result = await import_csv("invoices", path, clock=CLOCK)
    assert (result.created, len(result.changed_invoice_ids)) == (2000, 2000)
    assert await InvoiceLine.all().count() == 6000
    again = await import_csv("invoices", path, clock=CLOCK)
    assert (again.unchanged, again.updated) == (2000, 0)


def test_the_progress_bar_draws_on_a_terminal_only() -> None:
    out = io.StringIO()
    bar = ImportProgress("big.csv", console=Console(file=out, force_terminal=True))
    assert list(bar.rows(list(range(1500)))) == list(range(1500))
    bar.close()
    assert "big.csv" in out.getvalue()
    quiet = ImportProgress("big.csv", console=Console(file=io.StringIO()))
    rows = list(range(1500))
    assert quiet.rows(rows) is rows


# ---- demo data ------------------------------------------------------------------------------

async def test_the_demo_loads_about_100_invoices_in_every_status(orm: str) -> None:
    issued: list[int] = []

    async def on_issued(ids: list[int]) -> None:
        issued.extend(ids)

    summary = await load_demo(FixedClock.on(date(2026, 11, 15)), on_issued=on_issued)
    assert 90 <= summary.invoices <= 110
    assert await Invoice.all().count() == summary.invoices == len(issued)
    assert set(summary.statuses) == {s.value for s in InvoiceStatus}
    assert summary.statuses["void"] == summary.statuses["disputed"] == 1
    assert {"ap@acme.example", "controller@acme.example", "ap@globex.example",
            "ap@initech.example"} <= set(summary.contact_addresses)
    assert await Contact.all().count() == summary.contacts == 5
    assert await Payment.all().count() == summary.payments
    rates = set(await InvoiceLine.all().values_list("tax_rate", flat=True))
    assert rates == {Decimal(0), Decimal(7), Decimal(19), Decimal(20)}
    assert await Invoice.exclude(po_number="").exists()
    assert "invoices (" in str(summary)


async def test_the_demo_is_the_same_every_time(orm: str) -> None:
    summary = await load_demo(FixedClock.on(date(2026, 11, 15)))
    rows = await Invoice.all().order_by("number").values_list("number", "total", "status")
    for model in (Payment, InvoiceLine, Invoice, Contact, Account):
        await model.all().delete()
    again = await load_demo(FixedClock.on(date(2026, 11, 15)))
    assert again == summary
    assert await Invoice.all().order_by("number").values_list("number", "total", "status") == rows


async def test_the_demo_refuses_a_database_with_data(orm: str) -> None:
    await load("accounts")
    with pytest.raises(ValueError, match="empty database"):
        await load_demo(CLOCK)


async def test_other_sources_store_drafts_through_the_same_path(orm: str) -> None:
    await load("accounts")
    draft = InvoiceDraft(
        account="GLOBEX", number="API-1", issue_date=date(2026, 1, 2),
        due_date=date(2026, 2, 1), currency="USD",
        lines=(LineDraft("Support plan", Decimal(1), Decimal("99.00")),),
    )
    first = await upsert_invoices([draft], TODAY, CLOCK.now(), source="stripe")
    again = await upsert_invoices([draft], TODAY, CLOCK.now(), source="stripe")
    assert (first.created, again.unchanged) == (1, 1)
    with pytest.raises(ImportFailed, match="stripe: account_id 'NOPE' is not a known account"):
        await upsert_invoices([replace(draft, account="NOPE", number="API-2")], TODAY, CLOCK.now(),
                              source="stripe")


# ---- chat links -------------------------------------------------------------------------------

async def test_accounts_may_name_their_slack_workspace(orm: str, tmp_path: Path) -> None:
    path = write(tmp_path, "accounts.csv",
                 "account_id,name,slack_team_id\nACME,ACME Freight,T0ACME\nGLOBEX,Globex,\n")
    await import_csv("accounts", path, progress=False, clock=SYSTEM)
    assert (await Account.get(account_id="ACME")).slack_team_id == "T0ACME"
    assert (await Account.get(account_id="GLOBEX")).slack_team_id == ""
    bad = write(tmp_path, "bad.csv", "account_id,name,slack_team_id\nACME,ACME,acme-slack\n")
    assert await failure("accounts", bad) == [
        "bad.csv line 2: slack_team_id 'acme-slack' is not a Slack team id (e.g. T0123ABCD)"]


async def test_accounts_may_set_their_step_up(orm: str, tmp_path: Path) -> None:
    path = write(tmp_path, "accounts.csv",
                 "account_id,name,step_up\nACME,ACME Freight,Session\nGLOBEX,Globex,\n")
    await import_csv("accounts", path, progress=False, clock=SYSTEM)
    assert (await Account.get(account_id="ACME")).step_up == "session"
    assert (await Account.get(account_id="GLOBEX")).step_up == ""  # the tier's or global
    bad = write(tmp_path, "bad.csv", "account_id,name,step_up\nACME,ACME,always\n")
    assert await failure("accounts", bad) == [
        "bad.csv line 2: step_up 'always' is not one of never, downloads, session (or empty)"]


async def test_a_contact_made_inactive_loses_every_linked_chat_at_once(
    orm: str, tmp_path: Path
) -> None:
    await load("accounts", "contacts")
    anna = await Contact.get(email="ap@acme.example")
    carl = await Contact.get(email="controller@acme.example")
    for contact, platform, user in ((anna, "slack", "U1"), (anna, "telegram", "7"),
                                    (carl, "telegram", "8")):
        await ChatLink.create(contact=contact, platform=platform, user_id=user, chat_id=user,
                              team_id="T1" if platform == "slack" else "", linked_at=SYSTEM.now())
    path = write(tmp_path, "contacts.csv",
                 "account_id,email,active\nACME,ap@acme.example,false\n")
    await import_csv("contacts", path, progress=False, clock=SYSTEM)
    assert not await ChatLink.filter(contact_id=anna.id).exists()
    assert await ChatLink.filter(contact_id=carl.id).count() == 1
    removed = await AuditEvent.filter(action="vault.chat_link.removed").order_by("id")
    assert [(e.contact_id, e.data["platform"]) for e in removed] == [
        (anna.id, "slack"), (anna.id, "telegram")]
    assert all(e.data["reason"] == "contact_inactive" for e in removed)
