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

import io
import re
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.account.wiring import account_routes
from bot.messages import Request
from bot.pipeline import Pipeline
from tests.harness import fixed_clock
from tests.worlds import load_intents_data, scratch_database, world_config
from vault import db, sessions
from vault.clock import FixedClock
from vault.documents import DocumentStore
from vault.links import LinkSigner
from vault.models import (
    Account,
    Contact,
    Dispute,
    Escalation,
    Grant,
    Invoice,
    Payment,
    Receipt,
    Statement,
)
from vault.pdf import PdfRenderer
from vault.web import create_app

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


# ---- the account page ---------------------------------------------------------------------

PAGE_VALUES = ("", "overdue", "paid", "open", "disputed", "next_week", "this_week", "2026-03-01",
               "2025-01-01", "1000", "PO-7781", "ACME Freight", "INV-2026", "0042", "x")
FILTER_NAMES = ("due", "status", "entity", "po", "min", "max", "number", "issued_from",
                "issued_to", "due_from", "due_to", "sort", "page")


@dataclass
class Site:
    client: httpx.AsyncClient
    invoice_ids: tuple[int, ...]  # every account's
    clock: FixedClock
    keys: tuple[str, ...]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(world: World, renderer: PdfRenderer) -> AsyncIterator[Site]:
    config, clock = world.pipeline.config, world.pipeline.clock
    assert isinstance(clock, FixedClock)
    # The scope is what is tested here: forty examples of ZIPs by the same few contacts
    # would (rightly) be watched as unusual and asked for a step-up code.
    quiet = replace(config.access.step_up.watch, downloads_floor=10**9, views_floor=10**9)
    config = replace(config, access=replace(config.access, step_up=replace(
        config.access.step_up, watch=quiet)))
    store = DocumentStore.open(config.vault)
    app = create_app(config, store, LinkSigner(config.secret_keys), clock,
                     extra_routes=account_routes(config, clock, renderer, lambda: None, store))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    ids = tuple(await Invoice.all().values_list("id", flat=True))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Site(client, tuple(int(i) for i in ids), clock, config.secret_keys)
    await store.close()


def page_filters() -> st.SearchStrategy[dict[str, str]]:
    value = st.sampled_from(PAGE_VALUES) | st.text(max_size=8)
    return st.dictionaries(st.sampled_from(FILTER_NAMES), value, max_size=5)


async def _session(site: Site, who: str) -> str:
    """A fresh session for `who` (a new account link, opened); its CSRF token."""
    contact = await Contact.get(email=who)
    grant = await sessions.account_grant(contact, timedelta(days=1), site.clock.now())
    token = LinkSigner(site.keys, salt=sessions.ACCOUNT_SALT).sign(grant.id)
    form = LinkSigner(site.keys, salt=sessions.OPEN_SALT).sign(grant.id)
    site.client.cookies.clear()
    opened = await site.client.post(f"/a/{token}", data={"csrf": form})
    assert opened.status_code == 303, opened.text
    home = await site.client.get("/account/")
    found = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert found
    return found[1]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(who=st.sampled_from(A_CONTACTS), filters=page_filters(), pick=st.integers(0, 10_000),
       selected=st.lists(st.integers(0, 10_000), max_size=4))
async def test_every_account_page_shows_only_the_contacts_account(
    world: World, site: Site, who: str, filters: dict[str, str], pick: int,
    selected: list[int],
) -> None:
    site.clock.advance(timedelta(minutes=1))
    csrf = await _session(site, who)
    asked = " ".join(filters.values())
    invoice_id = site.invoice_ids[pick % len(site.invoice_ids)]
    chosen = [str(site.invoice_ids[i % len(site.invoice_ids)]) for i in selected]
    pages = [await site.client.get(path, params=filters) for path in (
        "/account/", "/account/invoices", "/account/statement", "/account/preferences")]
    pages.append(await site.client.get(f"/account/invoices/{invoice_id}"))
    for page in pages:
        assert page.status_code in (200, 404), page.text
        for token in world.others.tokens:
            if token.lower() in page.text.lower():
                assert echoed(token, asked), f"{token!r} of another account on {page.url}"
    archive = await site.client.post("/account/invoices/zip", data={
        **filters, "csrf": csrf, "which": "selected" if chosen else "all", "id": chosen})
    if archive.headers["content-type"] == "application/zip":
        names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
        a_numbers = set(await Invoice.filter(account__account_id="ACME").values_list(
            "number", flat=True))
        assert {n.removesuffix(".pdf") for n in names if n.endswith(".pdf")} <= a_numbers
