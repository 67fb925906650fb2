"""Property: whatever a contact of account A writes, the commands it parses to, run by the
pipeline, never yield a row, a link or a document of another account.

The text is drawn from the command words plus every identifying token of the other
accounts (invoice numbers, short numbers, entities, POs, payment references), mixed with
arbitrary text, so the parser produces every intent with inputs aimed at B's data. We
check the reply text (B's tokens may appear only as an echo of what A wrote) and every
grant the request made (each granted document is A's), and that nothing was written to
B's account (disputes, escalations).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.messages import Request
from bot.pipeline import Pipeline
from tests.harness import fixed_clock
from tests.worlds import load_intents_data, scratch_database, world_config
from vault import db
from vault.clock import FixedClock
from vault.links import LinkSigner
from vault.models import (
    Account,
    Dispute,
    Escalation,
    Grant,
    Invoice,
    Payment,
    Receipt,
    Statement,
)
from vault.pdf import PdfRenderer

pytestmark = pytest.mark.asyncio(loop_scope="module")

A_CONTACTS = ("ap@acme.example", "approver@acme.example", "boss@acme.example")
OTHERS = ("GLOBEX", "INITECH")
WORDS = (
    "invoices", "invoice", "unpaid", "overdue", "paid", "open", "balance", "aging", "statement",
    "payments", "remittance", "all", "as zip", "zip", "archive", "dispute", "talk to a person",
    "help", "last 3", "over 1000", "under 500", "exactly 7777", "$7,777.00", "EUR", "USD",
    "GBP", "2025", "2026", "March", "Q1", "May 2026", "for", "from", "PO", "PO-7781",
    "ACME Freight", "wrong quantity", "my notification settings", "#42", "#44", "#99",
    "#305", "#500", "inv 2026 44", "INV-2026-0042", "2026-0044",
)


@dataclass(frozen=True)
class Others:
    """What identifies the other accounts' data, and their ids."""

    tokens: tuple[str, ...]
    account_ids: tuple[int, ...]


@dataclass
class World:
    pipeline: Pipeline
    others: Others


async def other_accounts() -> Others:
    accounts = await Account.filter(account_id__in=OTHERS)
    ids = tuple(a.id for a in accounts)
    invoices = await Invoice.filter(account_id__in=ids)
    payments = await Payment.filter(account_id__in=ids)
    tokens = {a.name for a in accounts} | {i.number for i in invoices} | {
        i.entity for i in invoices if i.entity} | {i.po_number for i in invoices if i.po_number} | {
        p.reference for p in payments if p.reference}
    return Others(tuple(sorted(tokens)), ids)


async def documents_of_a() -> frozenset[int]:
    acme = await Account.get(account_id="ACME")
    invoice_docs = await Invoice.filter(account_id=acme.id).values_list("document_id", flat=True)
    statement_docs = await Statement.filter(account_id=acme.id).values_list("document_id",
                                                                             flat=True)
    receipt_docs = await Receipt.filter(account_id=acme.id).values_list("document_id", flat=True)
    return frozenset(int(d) for d in (*invoice_docs, *statement_docs, *receipt_docs)
                     if d is not None)


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    tmp = tmp_path_factory.mktemp("scope-properties")
    with scratch_database(tmp) as url:
        yield tmp, url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(world_db: tuple[Path, str], renderer: PdfRenderer) -> AsyncIterator[World]:
    tmp, url = world_db
    config = world_config(tmp, url)
    await db.migrate(url)
    await db.connect(url)
    await load_intents_data(config, renderer)
    pipeline = Pipeline(config, LinkSigner(config.secret_keys), fixed_clock(), renderer=renderer)
    yield World(pipeline, await other_accounts())
    await pipeline.close()
    await db.close()


def messages() -> st.SearchStrategy[str]:
    line = st.lists(st.sampled_from(WORDS) | st.text(max_size=12), min_size=1, max_size=6).map(
        " ".join)
    return st.lists(line, min_size=1, max_size=3).map("\n".join)


def echoed(token: str, text: str) -> bool:
    """The token's letters and digit groups were all written by the contact."""
    written = text.lower()
    digits = set(map(int, re.findall(r"\d+", written)))
    words = re.findall(r"[a-z]+", token.lower())
    return all(w in written for w in words) and all(
        int(d) in digits for d in re.findall(r"\d+", token))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=messages(), who=st.sampled_from(A_CONTACTS))
# Found on PostgreSQL: a NUL in the text reached an escalation row and the insert failed.
@example(text="talk to a person \x00", who=A_CONTACTS[0])
async def test_a_contact_never_gets_another_accounts_data(
    world: World, text: str, who: str
) -> None:
    clock = world.pipeline.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(minutes=1))  # this example's grants are the ones made from now
    started = clock.now()
    before = await _written_for_others(world.others)
    request = Request(channel="test", address=who, text=text, authenticated=True,
                      received_at=started)
    answer = await world.pipeline.handle(request)

    reply = answer.reply.as_text()
    for token in world.others.tokens:
        if token.lower() in reply.lower():
            assert echoed(token, text), f"{token!r} of another account in the reply to {text!r}"
    granted = await Grant.filter(created_at__gte=started)
    a_documents = await documents_of_a()
    for grant in granted:
        assert set(grant.document_ids) <= a_documents, f"grant {grant.id} for {text!r}"
        assert grant.contact_id == answer.contact_id
    assert await _written_for_others(world.others) == before


async def _written_for_others(others: Others) -> tuple[int, int]:
    ids = list(others.account_ids)
    return (await Dispute.filter(account_id__in=ids).count(),
            await Escalation.filter(account_id__in=ids).count())
