"""Demo data: three customers, their AP contacts and ~100 invoices over 14 months.

Everything is generated as CSV files and loaded with `import_csv`, the same path an
operator's files take, so the demo exercises the real import. The data is deterministic
(random.Random(42)) relative to `today`, and every invoice status appears: paid,
partially paid, open, overdue, one disputed and one void.
"""

from __future__ import annotations

import csv
import io
import random
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from vault.clock import Clock
from vault.ingest.csv import import_csv
from vault.ingest.drafts import CENT, InvoiceDraft, LineDraft
from vault.models import Account, Invoice

MONTHS = 14


@dataclass(frozen=True)
class Customer:
    account_id: str
    name: str
    timezone: str
    locale: str
    tax_id: str
    address: str
    currency: str
    terms_days: int
    invoices_per_month: int
    catalogue: tuple[tuple[str, Decimal, Decimal], ...]  # description, unit price, tax rate
    entities: tuple[str, ...] = ("",)
    po_prefix: str = ""  # "": no PO numbers


CUSTOMERS = (
    Customer(
        "ACME", "ACME Freight GmbH", "Europe/Berlin", "de_DE", "DE129274202",
        "Hafenstraße 12\n20457 Hamburg\nDeutschland", "EUR", 30, 3,
        (
            ("Straßentransport Hamburg–Berlin (Komplettladung)", Decimal("890.00"), Decimal(19)),
            ("Zollabfertigung Export", Decimal("65.00"), Decimal(19)),
            ("Palettenlagerung je Palette und Woche", Decimal("4.80"), Decimal(19)),
            ("Verpackungsmaterial", Decimal("1.35"), Decimal(19)),
            ("Fachzeitschrift Logistik heute (Abo)", Decimal("12.90"), Decimal(7)),
        ),
        entities=("ACME Freight GmbH",),
    ),
    Customer(
        "GLOBEX", "Globex Corp", "America/New_York", "en_US", "EIN 12-3456789",
        "1 Globex Way\nCypress Creek, NY 10001\nUSA", "USD", 45, 2,
        (
            ("Consulting, senior engineer (hour)", Decimal("175.00"), Decimal(0)),
            ("Cloud hosting, monthly plan", Decimal("1250.00"), Decimal(0)),
            ("On-site support visit", Decimal("480.00"), Decimal(0)),
            ("Hardware maintenance contract (month)", Decimal("320.00"), Decimal(0)),
        ),
        entities=("Globex Corp", "Globex Logistics LLC"),
        po_prefix="PO-GX-",
    ),
    Customer(
        "INITECH", "Initech Ltd", "Europe/London", "en_GB", "GB123456789",
        "4120 Freidrich Lane\nLondon EC1A 1BB\nUnited Kingdom", "GBP", 30, 2,
        (
            ("TPS report processing (batch)", Decimal("42.50"), Decimal(20)),
            ("Printer service call", Decimal("95.00"), Decimal(20)),
            ("Software licence, per seat and month", Decimal("18.00"), Decimal(20)),
        ),
        po_prefix="PO-IT-",
    ),
)

CONTACTS = (
    ("ACME", "ap@acme.example", "Anna Petersen", "ap", "de_DE"),
    ("ACME", "controller@acme.example", "Carl Roth", "approver", "de_DE"),
    ("GLOBEX", "ap@globex.example", "Gina Lopez", "ap", "en_US"),
    ("GLOBEX", "finance.manager@globex.example", "Hank Scorpio", "manager", "en_US"),
    ("INITECH", "ap@initech.example", "Peter Gibbons", "ap", "en_GB"),
)


@dataclass(frozen=True)
class DemoSummary:
    accounts: int
    contacts: int
    invoices: int
    payments: int
    contact_addresses: tuple[str, ...]
    statuses: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
        return (
            f"{self.accounts} accounts, {self.contacts} contacts "
            f"({', '.join(self.contact_addresses)}), {self.invoices} invoices ({statuses}), "
            f"{self.payments} payments"
        )


@dataclass(frozen=True)
class _Payment:
    draft: InvoiceDraft
    amount: Decimal
    paid_on: date
    reference: str


async def load_demo(
    clock: Clock, timezone: str = "UTC",
    on_issued: Callable[[list[int]], Awaitable[None]] | None = None,
) -> DemoSummary:
    """Load the demo into an EMPTY database (ValueError otherwise) through import_csv;
    its dates are relative to the clock's today in `timezone` (the seller's)."""
    if await Account.all().exists() or await Invoice.all().exists():
        raise ValueError("demo data goes into an empty database; this one has data")
    today = clock.today(timezone)
    rng = random.Random(42)
    drafts = _invoices(rng, today)
    payments = _payments(rng, drafts, today)
    with tempfile.TemporaryDirectory(prefix="invoicebot-demo-") as folder:
        files = _write_files(Path(folder), drafts, payments)
        for kind in ("accounts", "contacts", "invoices", "payments"):
            await import_csv(
                kind, files[kind], clock=clock, timezone=timezone, on_issued=on_issued,
                progress=False,
            )
    statuses = Counter([str(s) for s in await Invoice.all().values_list("status", flat=True)])
    return DemoSummary(
        accounts=len(CUSTOMERS), contacts=len(CONTACTS), invoices=len(drafts),
        payments=len(payments), contact_addresses=tuple(c[1] for c in CONTACTS),
        statuses=dict(statuses),
    )


def _months(today: date) -> list[date]:
    """The first day of each of the MONTHS months up to and including today's."""
    first = today.replace(day=1)
    months = [first]
    for _ in range(MONTHS - 1):
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return months[::-1]


def _invoices(rng: random.Random, today: date) -> list[InvoiceDraft]:
    """Invoices of all customers, numbered in one seller-wide series by issue date."""
    drafts: list[InvoiceDraft] = []
    for month in _months(today):
        last_day = today.day if month == today.replace(day=1) else 28
        for customer in CUSTOMERS:
            for _ in range(customer.invoices_per_month):
                issued = month.replace(day=rng.randint(1, last_day))
                drafts.append(_invoice(rng, customer, issued))
    drafts.sort(key=lambda d: (d.issue_date, d.account))
    numbered = [
        replace(d, number=f"INV-{d.issue_date.year}-{n:04d}")
        for n, d in enumerate(drafts, start=1)
    ]
    return _with_file_statuses(numbered)


def _invoice(rng: random.Random, customer: Customer, issued: date) -> InvoiceDraft:
    items = rng.sample(customer.catalogue, k=rng.randint(1, min(3, len(customer.catalogue))))
    lines = tuple(
        LineDraft(
            description=description,
            quantity=Decimal(rng.choice((1, 1, 2, 3, 5, 8, 12, 40))),
            unit_price=price,
            tax_rate=rate,
        )
        for description, price, rate in items
    )
    po_number = ""
    if customer.po_prefix and rng.random() < 0.6:
        po_number = f"{customer.po_prefix}{rng.randint(1000, 9999)}"
    return InvoiceDraft(
        account=customer.account_id, number="", issue_date=issued,
        due_date=issued + timedelta(days=customer.terms_days), currency=customer.currency,
        lines=lines, entity=rng.choice(customer.entities), po_number=po_number,
    )


def _with_file_statuses(drafts: list[InvoiceDraft]) -> list[InvoiceDraft]:
    """One ACME invoice from about two months ago is disputed, one Globex one void."""
    marks = {"ACME": "disputed", "GLOBEX": "void"}
    target = {"ACME": len(drafts) * 10 // 14, "GLOBEX": len(drafts) // 2}
    result = list(drafts)
    for account, status in marks.items():
        index = next(
            i for i in range(target[account], len(drafts)) if drafts[i].account == account
        )
        result[index] = replace(drafts[index], file_status=status)
    return result


def _payments(rng: random.Random, drafts: list[InvoiceDraft], today: date) -> list[_Payment]:
    """Most invoices that are due are paid; some not, some in part. A few are forced so
    every status appears: the newest three are open, partially paid and open (not yet
    due), and one from about four months ago is unpaid (overdue)."""
    newest = len(drafts) - 3
    forced = {newest: 0.0, newest + 1: 0.4, newest + 2: 0.0, len(drafts) * 9 // 14: 0.0}
    payments: list[_Payment] = []
    for index, draft in enumerate(drafts):
        share = forced.get(index, _share_paid(rng, draft, today))
        if share and not draft.file_status:
            payments.append(_payment(rng, draft, share, today))
    return payments


def _payment(rng: random.Random, draft: InvoiceDraft, share: float, today: date) -> _Payment:
    amount = (draft.totals().total * Decimal(str(share))).quantize(CENT)
    latest = min(today, draft.due_date + timedelta(days=10))
    paid_on = draft.issue_date + timedelta(
        days=rng.randint(0, max(0, (latest - draft.issue_date).days))
    )
    reference = f"BANK-{rng.randint(100000, 999999)}" if rng.random() < 0.8 else ""
    return _Payment(draft, amount, paid_on, reference)


def _share_paid(rng: random.Random, draft: InvoiceDraft, today: date) -> float:
    roll = rng.random()
    if draft.due_date < today:  # due: mostly paid, some overdue, a few short-paid
        return 1.0 if roll < 0.8 else 0.5 if roll < 0.87 else 0.0
    return 1.0 if roll < 0.3 else 0.5 if roll < 0.45 else 0.0


def _write_files(
    folder: Path, drafts: list[InvoiceDraft], payments: list[_Payment]
) -> dict[str, Path]:
    tables: dict[str, tuple[list[str], list[list[object]]]] = {
        "accounts": (
            ["account_id", "name", "timezone", "locale", "tier", "tax_id", "address"],
            [[c.account_id, c.name, c.timezone, c.locale, "standard", c.tax_id, c.address]
             for c in CUSTOMERS],
        ),
        "contacts": (
            ["account_id", "email", "name", "role", "locale", "active"],
            [[*contact, "yes"] for contact in CONTACTS],
        ),
        "invoices": (
            ["account_id", "invoice_number", "issue_date", "due_date", "currency",
             "description", "quantity", "unit_price", "tax_rate", "entity", "po_number",
             "status"],
            [[d.account, d.number, d.issue_date, d.due_date, d.currency, line.description,
              line.quantity, line.unit_price, line.tax_rate, d.entity, d.po_number,
              d.file_status] for d in drafts for line in d.lines],
        ),
        "payments": (
            ["account_id", "invoice_number", "amount", "paid_on", "reference", "method"],
            [[p.draft.account, p.draft.number, p.amount, p.paid_on, p.reference, "transfer"]
             for p in payments],
        ),
    }
    files: dict[str, Path] = {}
    for kind, (header, rows) in tables.items():
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(rows)
        files[kind] = folder / f"{kind}.csv"
        files[kind].write_text(text.getvalue(), encoding="utf-8")
    return files
