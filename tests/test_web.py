"""The HTTP app: downloads over signed links, identical refusals, health, no tokens in logs."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import logging
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from tests.s3 import VaultPlace
from vault import links, web
from vault.audit import SampledAudit
from vault.clock import SYSTEM, FixedClock
from vault.config import Config
from vault.documents import DocumentStore
from vault.invoices import AccountScope
from vault.links import LinkSigner
from vault.models import Account, AuditEvent, Contact, Document, Grant, Invoice

OLD, NEW = "k" * 40, "n" * 40
WEEK = timedelta(days=7)
CLIENT = ("203.0.113.7", 50000)
BROWSER = "Mozilla/5.0 (AP desk)"


@dataclass
class Vault:
    """Two accounts' invoices as PDF files in a store, and a client for the app."""

    config: Config
    store: DocumentStore
    place: VaultPlace  # a folder or an S3 bucket (tests/s3.py)
    signer: LinkSigner
    contact: Contact
    documents: dict[str, Document]  # by invoice number
    client: httpx.AsyncClient

    async def link(self, *numbers: str, label: str = "") -> tuple[Grant, str]:
        scope = await AccountScope.for_contact(self.contact)
        docs = [self.documents[n] for n in numbers]
        row = await links.grant(scope, docs, label or numbers[0], WEEK, SYSTEM.now())
        return row, self.signer.sign(row.id)


def pdf_bytes(number: str) -> bytes:
    return f"%PDF-1.7\n% invoice {number}\n".encode() * 50 + b"%%EOF\n"


async def add_invoice(store: DocumentStore, account: Account, number: str) -> Document:
    document = await store.put(pdf_bytes(number))
    await Invoice.create(
        account=account, number=number, issue_date=date(2026, 3, 1), due_date=date(2026, 3, 31),
        currency="EUR", subtotal=Decimal(100), tax_total=Decimal(0), total=Decimal(100),
        content_hash="x", document=document,
    )
    return document


def client_for(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=CLIENT)
    return httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"User-Agent": BROWSER}
    )


@pytest.fixture
async def vault(orm: str, config: Config, storage: VaultPlace) -> AsyncIterator[Vault]:
    store = DocumentStore.open(storage.config)
    acme = await Account.create(account_id="ACME", name="Acme")
    beta = await Account.create(account_id="BETA", name="Beta")
    contact = await Contact.create(account=acme, email="ap@acme.example")
    documents = {n: await add_invoice(store, acme, n) for n in ("INV-2026-0042", "INV-2026-0043")}
    documents["INV-2026-0099"] = await add_invoice(store, beta, "INV-2026-0099")
    signer = LinkSigner(config.secret_keys)
    async with client_for(web.create_app(config, store, signer, SYSTEM)) as client:
        yield Vault(config, store, storage, signer, contact, documents, client)
    await store.close()


# ---- a valid link -------------------------------------------------------------------------------

async def test_link_downloads_the_pdf_with_safe_headers(vault: Vault) -> None:
    _, token = await vault.link("INV-2026-0042")
    response = await vault.client.get(f"/d/{token}")
    assert response.status_code == 200
    assert response.content == pdf_bytes("INV-2026-0042")
    headers = response.headers
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"] == (
        "attachment; filename=\"INV-2026-0042.pdf\"; filename*=UTF-8''INV-2026-0042.pdf")
    assert headers["content-length"] == str(len(pdf_bytes("INV-2026-0042")))
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


async def test_download_is_audited_with_who_what_and_from_where(vault: Vault) -> None:
    row, token = await vault.link("INV-2026-0042")
    await vault.client.get(f"/d/{token}")
    event = await AuditEvent.get(action="vault.document.download")
    assert (event.account_id, event.contact_id, event.document_id) == (
        vault.contact.account_id, vault.contact.id, vault.documents["INV-2026-0042"].id)
    assert (event.ip, event.user_agent) == (CLIENT[0], BROWSER)
    assert event.data == {"grant": row.id}
    assert token not in str(event.data)


async def test_file_name_is_sanitized_and_exact_name_kept_as_rfc5987(vault: Vault) -> None:
    _, token = await vault.link("INV-2026-0042", label='Rechnung März "2026"/../x')
    response = await vault.client.get(f"/d/{token}")
    assert response.headers["content-disposition"] == (
        'attachment; filename="Rechnung_M_rz_2026_.._x.pdf"; '
        "filename*=UTF-8''Rechnung%20M%C3%A4rz%20%222026%22%2F..%2Fx.pdf")


async def test_several_documents_stream_as_one_zip(vault: Vault) -> None:
    _, token = await vault.link("INV-2026-0042", "INV-2026-0043", label="invoices March")
    response = await vault.client.get(f"/d/{token}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="invoices_March.zip"' in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    assert archive.namelist() == ["index.csv", "INV-2026-0042.pdf", "INV-2026-0043.pdf"]
    assert archive.read("INV-2026-0043.pdf") == pdf_bytes("INV-2026-0043")
    index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode())))
    assert [(r["number"], r["file"], r["amount"], r["currency"], r["status"]) for r in index] == [
        ("INV-2026-0042", "INV-2026-0042.pdf", "100.00", "EUR", "open"),
        ("INV-2026-0043", "INV-2026-0043.pdf", "100.00", "EUR", "open"),
    ]
    assert index[0]["issue_date"] == "2026-03-01" and index[0]["due_date"] == "2026-03-31"
    audited = await AuditEvent.filter(action="vault.document.download").values_list(
        "document_id", flat=True)
    assert sorted(audited) == sorted(vault.documents[n].id for n in ("INV-2026-0042",
                                                                       "INV-2026-0043"))


async def test_a_zip_label_makes_a_zip_even_of_one_document(vault: Vault) -> None:
    _, token = await vault.link("INV-2026-0042", label="invoices-2026.zip")
    response = await vault.client.get(f"/d/{token}")
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="invoices-2026.zip"' in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["index.csv", "INV-2026-0042.pdf"]
    assert archive.read("INV-2026-0042.pdf") == pdf_bytes("INV-2026-0042")


@pytest.mark.parametrize("numbers", [["INV-2026-0042"], ["INV-2026-0042", "INV-2026-0043"]])
async def test_head_request_is_not_audited_as_a_download(vault: Vault, numbers: list[str]) -> None:
    _, token = await vault.link(*numbers)
    response = await vault.client.head(f"/d/{token}")
    assert response.status_code == 200
    assert response.headers["content-type"] in ("application/pdf", "application/zip")
    assert await AuditEvent.filter(action="vault.document.download").count() == 0


async def test_link_signed_before_key_rotation_still_downloads(vault: Vault) -> None:
    old_signer = LinkSigner((OLD,))
    row, _ = await vault.link("INV-2026-0042")
    response = await vault.client.get(f"/d/{old_signer.sign(row.id)}")  # app has (OLD, NEW)
    assert response.status_code == 200


async def test_missing_file_is_a_server_fault_not_a_download(vault: Vault) -> None:
    _, token = await vault.link("INV-2026-0042")
    vault.place.remove(vault.documents["INV-2026-0042"].storage_key)
    response = await vault.client.get(f"/d/{token}")
    assert response.status_code == 503
    assert "This file is temporarily unavailable" in response.text
    assert "Your link stays valid" in response.text
    assert await AuditEvent.filter(action="vault.document.download").count() == 0


async def test_document_moved_out_of_the_contacts_account_is_refused(vault: Vault) -> None:
    _, token = await vault.link("INV-2026-0042")
    await Invoice.filter(number="INV-2026-0042").update(document_id=None)
    response = await vault.client.get(f"/d/{token}")
    assert response.status_code == 410
    event = await AuditEvent.get(action="vault.link.refused")
    assert event.data["reason"] == "document_unavailable"


# ---- refusals -----------------------------------------------------------------------------------

async def _refused(vault: Vault, case: str) -> httpx.Response:
    row, token = await vault.link("INV-2026-0042")
    if case == "tampered":
        token = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    elif case == "unknown":
        token = vault.signer.sign("no-such-grant")
    elif case == "expired":
        await Grant.filter(id=row.id).update(expires_at=SYSTEM.now() - timedelta(seconds=1))
    elif case == "revoked":
        await links.revoke(row.id)
    elif case == "deactivated":
        await Contact.filter(id=vault.contact.id).update(active=False)
    elif case == "key_removed":
        app = web.create_app(vault.config, vault.store, LinkSigner((NEW,)), SYSTEM)
        async with client_for(app) as client:
            return await client.get(f"/d/{LinkSigner((OLD,)).sign(row.id)}")
    return await vault.client.get(f"/d/{token}")


REFUSALS = ["tampered", "unknown", "expired", "revoked", "deactivated", "key_removed"]


@pytest.mark.parametrize("case", REFUSALS)
async def test_bad_link_gets_the_refusal_page(vault: Vault, case: str) -> None:
    response = await _refused(vault, case)
    assert response.status_code == 410
    assert "no longer valid" in response.text
    assert "mailto:invoices@localhost" in response.text  # config.email.sender
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert await AuditEvent.filter(action="vault.document.download").count() == 0


@pytest.mark.parametrize("storage", ["file"], indirect=True)  # no document read
async def test_every_refusal_looks_the_same(vault: Vault) -> None:
    seen = set()
    for case in REFUSALS:
        response = await _refused(vault, case)
        seen.add((response.status_code, response.content))
        await Contact.filter(id=vault.contact.id).update(active=True)
    assert len(seen) == 1


async def test_refusal_is_audited_with_its_reason_but_not_the_token(vault: Vault) -> None:
    row, token = await vault.link("INV-2026-0042")
    await links.revoke(row.id)
    await vault.client.get(f"/d/{token}")
    event = await AuditEvent.get(action="vault.link.refused")
    assert event.data == {"reason": "revoked", "grant": row.id, "count": 1}
    assert (event.contact_id, event.ip, event.user_agent) == (vault.contact.id, CLIENT[0], BROWSER)


async def test_grant_for_another_accounts_document_cannot_be_made(vault: Vault) -> None:
    with pytest.raises(links.GrantRefused):
        await vault.link("INV-2026-0099")


# ---- health and logs ----------------------------------------------------------------------------

async def test_healthz_reports_database_ok(vault: Vault) -> None:
    response = await vault.client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


async def test_healthz_is_503_when_the_database_fails(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down() -> None:
        raise ConnectionError("database is down")

    monkeypatch.setattr(web, "_ping_database", down)
    response = await vault.client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error"


async def test_readyz_is_ok_with_room_on_disk(vault: Vault) -> None:
    if vault.place.kind == "s3":
        pytest.skip("an object store has no disk of ours: see the S3 readiness test")
    response = await vault.client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["disk"] == "ok"


async def test_readyz_is_503_on_low_disk_while_healthz_stays_200(vault: Vault) -> None:
    if vault.place.kind == "s3":
        pytest.skip("an object store has no disk of ours: see the test below")
    assert vault.config.min_free_disk == 500 * 1024 * 1024  # the default, http.min_free_disk
    seen: list[Path] = []

    def nearly_full(path: Path) -> int:
        seen.append(path)
        return 100 * 1024 * 1024

    app = web.create_app(vault.config, vault.store, vault.signer, SYSTEM, free_disk=nearly_full)
    async with client_for(app) as client:
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "error", "database": "ok", "vault": "ok", "disk": "low",
                            "disk_free": 100 * 1024 * 1024}
    assert alive.status_code == 200
    assert seen == [vault.place.config.folder]


async def test_readyz_of_an_s3_vault_probes_the_bucket_and_has_no_disk_keys(
    vault: Vault,
) -> None:
    if vault.place.kind != "s3":
        pytest.skip("the folder's answer is checked above")
    ready = await vault.client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "ok",
                                                       "vault": "ok"})
    gone = DocumentStore.open(dataclasses.replace(vault.place.config, bucket="no-such-bucket"))
    app = web.create_app(vault.config, gone, vault.signer, SYSTEM)
    async with client_for(app) as client:
        broken = await client.get("/readyz")
    await gone.close()
    assert broken.status_code == 503
    assert broken.json()["vault"].startswith("not writable: ")


async def test_refusals_are_one_row_per_ip_per_minute_with_a_count(orm: str) -> None:
    clock = FixedClock.on(date(2026, 11, 21))
    sampled = SampledAudit("vault.link.refused", max_ips=2, clock=clock)
    for ip in ("198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.2",
               "198.51.100.3", "198.51.100.4"):  # the last two: over max_ips
        await sampled.record(ip=ip, user_agent="junk", reason="bad_signature", grant="")
    clock.advance(timedelta(minutes=1))
    await sampled.record(ip="198.51.100.1", user_agent="junk", reason="bad_signature", grant="")
    await sampled.flush()
    rows = await AuditEvent.filter(action="vault.link.refused").order_by("id")
    assert [(r.ip, r.data["count"]) for r in rows] == [
        ("198.51.100.1", 3), ("198.51.100.2", 1), ("*", 2), ("198.51.100.1", 1)]


@pytest.mark.parametrize("storage", ["file"], indirect=True)  # no document read
async def test_ten_thousand_junk_link_hits_over_http_write_a_few_audit_rows(
    vault: Vault,
) -> None:
    app = web.create_app(vault.config, vault.store, vault.signer, SYSTEM)
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", access_log=False, log_config=None))
    serving = asyncio.create_task(server.serve())
    hits, workers = 10_000, 20
    statuses: list[int] = []
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            async def worker(first: int) -> None:
                for n in range(first, hits, workers):
                    response = await client.get(f"/d/junk-{n}.AAAA")
                    statuses.append(response.status_code)

            await asyncio.gather(*(worker(i) for i in range(workers)))
        await app.state.refused_links.flush()
    finally:
        server.should_exit = True
        await serving
    assert statuses == [410] * hits
    rows = await AuditEvent.filter(action="vault.link.refused")
    # One row per minute from the one IP: the run spans a minute boundary at most a few times.
    assert 1 <= len(rows) <= 5
    assert sum(r.data["count"] for r in rows) == hits
    assert {r.ip for r in rows} == {"127.0.0.1"}


async def test_token_never_reaches_the_logs(vault: Vault, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, token = await vault.link("INV-2026-0042")
    await vault.client.get(f"/d/{token}")
    await vault.client.get(f"/d/{token}x")  # a refusal too
    signature = token.rpartition(".")[2]
    # httpx's records are the test client's (the browser's side), not the service's.
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert not [m for m in ours if token in m or signature in m]
    access = [r.getMessage() for r in caplog.records if r.name == "invoicebot.access"]
    assert [m.rpartition(" ")[0] for m in access] == [
        '203.0.113.7 "GET /d/<redacted>" 200', '203.0.113.7 "GET /d/<redacted>" 410']


# ---- over real HTTP ------------------------------------------------------------------------------

async def test_download_over_real_http_from_uvicorn(vault: Vault) -> None:
    app = web.create_app(vault.config, vault.store, vault.signer, SYSTEM)
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", access_log=False, log_config=None))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        _, token = await vault.link("INV-2026-0042")
        async with httpx.AsyncClient(headers={"User-Agent": BROWSER}) as client:
            response = await client.get(f"http://127.0.0.1:{port}/d/{token}")
    finally:
        server.should_exit = True
        await serving
    assert response.status_code == 200
    assert response.content == pdf_bytes("INV-2026-0042")
    event = await AuditEvent.get(action="vault.document.download")
    assert (event.ip, event.user_agent) == ("127.0.0.1", BROWSER)
