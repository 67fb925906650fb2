"""Property: in a random world, every answer about money tells one set of amounts.

The world has payments and credit notes (allocated to an invoice, or a credit on the
account): a credit note reduces what its invoice owes as a payment does.

For every contact, the unpaid, overdue and disputed listings, the balance, the aging, a
statement up to today and the alerts of a digest agree on sums and counts, by the rule
of vault.amounts: outstanding = unpaid + disputed; a disputed invoice is never overdue.
Then, through the pipeline, the reply a contact reads: a disputed invoice past its due
date is counted alike in "balance" and "overdue" (in dispute, not overdue, in both).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.intents import OVERDUE, UNPAID
from bot.messages import Request
from bot.pipeline import Pipeline
from notifier.compose import alert_for
from tests.harness import TODAY, fixed_clock
from tests.worlds import scratch_database, world_config
from vault import amounts, db
from vault.aging import ZERO, age, balances, owed_now
from vault.config import Config
from vault.formats import Formats
from vault.invoices import AccountScope, InvoiceQuery, derive_status
from vault.links import LinkSigner
from vault.models import (
    Account,
    Contact,
    CreditNote,
    Dispute,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    Payment,
    Role,
)
from vault.pdf import PdfRenderer
from vault.statements import build_statement
from vault.vocabulary import EventKind

pytestmark = pytest.mark.asyncio(loop_scope="module")
NOON = datetime.combine(TODAY, time(12), tzinfo=UTC)
START = TODAY - timedelta(days=400)


@dataclass(frozen=True)
class Drawn:
    """One invoice of a random world."""

    currency: str
    issued_days_ago: int
    terms: int
    cents: int
    paid_parts: tuple[int, ...]  # percent of the total, per payment
    disputed: bool
    void: bool
    credit_parts: tuple[int, ...] = ()  # percent of the total, per credit note


invoices_drawn = st.builds(
    Drawn, currency=st.sampled_from(("EUR", "USD")),
    issued_days_ago=st.integers(0, 380), terms=st.sampled_from((0, 14, 30, 60)),
    cents=st.integers(1, 2_000_000),
    paid_parts=st.lists(st.integers(1, 70), max_size=3).map(tuple),
    credit_parts=st.lists(st.integers(1, 50), max_size=2).map(tuple),
    disputed=st.booleans(), void=st.integers(0, 9).map(lambda n: n == 0),
)


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    tmp = tmp_path_factory.mktemp("amounts-properties")
    with scratch_database(tmp) as url:
        yield tmp, url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def config(world_db: tuple[Path, str]) -> AsyncIterator[Config]:
    tmp, url = world_db
    await db.migrate(url)
    await db.connect(url)
    yield world_config(tmp, url)
    await db.close()


async def make_world(drawn: list[Drawn], on_account: int | None = None) -> list[Contact]:
    """One account, two contacts, the drawn invoices with their payments, credit notes
    and disputes, stored as the import stores them (status derived from payments, credits
    and the day), and maybe a credit note on the account (`on_account` cents)."""
    for model in (InvoiceEvent, Dispute, Payment, CreditNote, Invoice, Contact, Account):
        await model.all().delete()
    account = await Account.create(account_id="RAND", name="Random GmbH", locale="de",
                                   timezone="Europe/Berlin")
    contacts = [await Contact.create(account=account, email=f"{role}@rand.example", role=role)
                for role in (Role.AP, Role.MANAGER)]
    for n, d in enumerate(drawn):
        total = Decimal(d.cents) / 100
        issued = TODAY - timedelta(days=d.issued_days_ago)
        parts = [(total * p / 100).quantize(Decimal("0.01")) for p in d.paid_parts]
        credits = [(total * p / 100).quantize(Decimal("0.01")) for p in d.credit_parts]
        file_status = InvoiceStatus.VOID if d.void else (
            InvoiceStatus.DISPUTED if d.disputed else "")
        invoice = await Invoice.create(
            account=account, number=f"R-{n:04d}", issue_date=issued,
            due_date=issued + timedelta(days=d.terms), currency=d.currency,
            subtotal=total, tax_total=ZERO, total=total, amount_paid=sum(parts, ZERO),
            amount_credited=sum(credits, ZERO), file_status=file_status, content_hash=str(n),
            status=derive_status(total, sum(parts, ZERO), issued + timedelta(days=d.terms),
                                 file_status, TODAY, sum(credits, ZERO)))
        for k, amount in enumerate(parts):
            await Payment.create(account=account, invoice=invoice, natural_key=f"{n}:{k}",
                                 amount=amount,
                                 paid_on=min(issued + timedelta(days=k + 1), TODAY))
        for k, amount in enumerate(credits):
            await credit_note(account, f"CN-{n:04d}-{k}", amount, d.currency,
                              min(issued + timedelta(days=k + 2), TODAY), invoice)
        if d.disputed and not d.void:
            await Dispute.create(account=account, invoice=invoice, contact_id=contacts[0].id,
                                 at=NOON - timedelta(days=1), reason="wrong quantity",
                                 previous_status="open")
    if on_account is not None:
        await credit_note(account, "CN-ACCOUNT", Decimal(on_account) / 100, "EUR",
                          TODAY - timedelta(days=3), None)
    return contacts


async def credit_note(account: Account, number: str, amount: Decimal, currency: str,
                      day: date, invoice: Invoice | None) -> None:
    await CreditNote.create(account=account, number=number, invoice=invoice, issue_date=day,
                            currency=currency, subtotal=amount, tax_total=ZERO, amount=amount,
                            content_hash=number)


def by_currency(invoices: list[Invoice]) -> dict[str, tuple[int, Decimal]]:
    """Count and sum of what is still due, per currency, of the owed ones."""
    found: dict[str, tuple[int, Decimal]] = defaultdict(lambda: (0, ZERO))
    for invoice in invoices:
        due = amounts.due_of(invoice)
        if due > 0:
            count, total = found[invoice.currency]
            found[invoice.currency] = (count + 1, total + due)
    return dict(found)


def plus(a: dict[str, tuple[int, Decimal]], b: dict[str, tuple[int, Decimal]]
         ) -> dict[str, tuple[int, Decimal]]:
    return {c: (a.get(c, (0, ZERO))[0] + b.get(c, (0, ZERO))[0],
                a.get(c, (0, ZERO))[1] + b.get(c, (0, ZERO))[1]) for c in {*a, *b}}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=st.lists(invoices_drawn, max_size=14),
       back=st.none() | st.integers(0, 200),
       on_account=st.none() | st.integers(1, 100_000))
async def test_every_answer_tells_the_same_amounts(
    config: Config, drawn: list[Drawn], back: int | None, on_account: int | None
) -> None:
    """Live, or as of a past day (`invoicebot ask --today`): `back` days ago."""
    day = TODAY if back is None else TODAY - timedelta(days=back)
    for contact in await make_world(drawn, on_account):
        scope = await AccountScope.for_contact(contact, None if back is None else day)
        unpaid = by_currency(await scope.search(InvoiceQuery(statuses=UNPAID)))
        overdue = by_currency(await scope.search(InvoiceQuery(statuses=OVERDUE)))
        disputed = by_currency(await scope.search(InvoiceQuery(
            statuses=(InvoiceStatus.DISPUTED,))))
        owed = await owed_now(scope, day)
        rows = {r.currency: r for r in balances(owed)}

        # Balance: outstanding = unpaid + disputed; overdue as listed; disputed as listed.
        assert {c: (r.invoices, r.outstanding) for c, r in rows.items()} == plus(unpaid, disputed)
        assert {c: (r.overdue_invoices, r.overdue) for c, r in rows.items()
                if r.overdue_invoices} == overdue
        assert {c: (r.disputed_invoices, r.disputed) for c, r in rows.items()
                if r.disputed_invoices} == disputed

        # Aging: everything owed, aged; past due = overdue + disputed past due.
        aging = {r.currency: r for r in age(owed, day)}
        assert {c: a.total for c, a in aging.items()} == {c: r.outstanding
                                                          for c, r in rows.items()}
        for c, a in aging.items():
            disputed_late = sum((o.amount for o in owed if o.currency == c and o.disputed
                                 and o.due_date < day), ZERO)
            assert sum(a.buckets[1:], ZERO) == rows[c].overdue + disputed_late

        # A statement up to that day: its aging and closing balance tell the same.
        snapshot = await build_statement(scope, START, day, day, config.seller)
        for section in snapshot.sections:
            outstanding = rows[section.currency].outstanding if section.currency in rows \
                else ZERO
            assert sum(section.aging, ZERO) == outstanding
            assert section.closing == outstanding - section.credit

        # A digest's alerts: each says what is still open, as the listings do.
        fmt = Formats.of("de_DE", "Europe/Berlin")
        for invoice in await scope.seen(await scope.invoices()):
            event = InvoiceEvent(kind=EventKind.STATUS_CHANGED, old_status=InvoiceStatus.OPEN,
                                 new_status=invoice.status)
            details = alert_for(event, invoice, fmt, None).details
            due = fmt.money(amounts.due_of(invoice), invoice.currency)
            assert f"(open: {due})" in details[0]


async def test_a_disputed_invoice_is_counted_alike_in_balance_and_overdue(
    config: Config, renderer: PdfRenderer
) -> None:
    overdue_a = Drawn("EUR", 60, 30, 10_000, (), disputed=False, void=False)
    disputed_b = Drawn("EUR", 90, 30, 25_000, (40,), disputed=True, void=False)
    current_c = Drawn("EUR", 5, 30, 5_000, (), disputed=False, void=False)
    await make_world([overdue_a, disputed_b, current_c])
    pipeline = Pipeline(config, LinkSigner(config.secret_keys), fixed_clock(), renderer=renderer)
    try:
        async def ask(text: str) -> str:
            answer = await pipeline.handle(Request("test", "ap@rand.example", text, True, NOON))
            return answer.reply.as_text().replace("\xa0", " ")

        balance, listed, disputes = await ask("balance"), await ask("overdue"), \
            await ask("disputed invoices")
    finally:
        await pipeline.close()
    # 100 overdue; 150 of 250 still due on the disputed one; 50 not yet due.
    assert "300,00 € outstanding, of which 100,00 € overdue and 150,00 € in dispute" in balance
    assert "100,00 € overdue on 1 invoice" in balance
    assert "150,00 € in dispute on 1 invoice" in balance
    assert "Overdue invoices: 1 invoice" in listed and "R-0000" in listed
    assert "R-0001" not in listed
    assert "R-0001" in disputes and "250,00 € (150,00 € due)  disputed" in disputes
