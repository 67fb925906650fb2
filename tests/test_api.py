"""The ingestion API over real HTTP against the running service (tests/alerting.py: frozen
clock, the e2e accounts and contacts loaded, a real SMTP sink), with keys made by the same
function `invoicebot apikey create` calls."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.alerting import BASE_DAY, Alerting, alert_config, pdf_text, running_alerts, text_of
from tests.fakes import SmtpSink
from tests.harness import Running, request_mail
from tests.test_cli import make_cli
from tests.test_facturx import embedded_xml, pdfa_part, texts
from vault.api.keys import create_key, revoke_key
from vault.clock import SYSTEM
from vault.models import AuditEvent
from vault.pdf import PdfRenderer
from vault.vocabulary import ApiScope

GLOBEX = "ap@globex.example"


@dataclass
class Api:
    alerting: Alerting
    ingest: str
    read: str
    revoked: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.alerting.service.http_port}/api/v1"

    async def call(self, method: str, path: str, key: str | None = None,
                   **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        # New invoices are answered once their PDFs are rendered: on a busy machine that
        # takes longer than httpx's 5 s default (an ERP's client waits longer too).
        async with httpx.AsyncClient(timeout=60) as client:
            return await client.request(method, self.base + path, headers=headers, **kwargs)

    async def post(self, kind: str, body: Any, **headers: str) -> httpx.Response:
        return await self.call("POST", f"/{kind}", self.ingest, json=body, headers=headers)

    async def get(self, path: str, **params: str) -> httpx.Response:
        return await self.call("GET", path, self.read, params=params)


@pytest.fixture
async def api(  # type: ignore[no-untyped-def]
    request, make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str, tmp_path: Path
) -> AsyncIterator[Api]:
    rate = getattr(request, "param", "600/min")
    config = alert_config(make_config, sink, INVOICEBOT_API_RATE=rate)
    async with running_alerts(config, sink, renderer, tmp_path) as alerting:
        now = SYSTEM.now()
        keys = [await create_key(name, scope, now) for name, scope in (
            ("erp", ApiScope.INGEST), ("reporting", ApiScope.READ), ("old", ApiScope.INGEST))]
        await revoke_key("old", now)
        yield Api(alerting, *keys)


def invoice(number: str = "G-2001", external_id: str | None = "erp-1", **changes: Any) -> dict[
        str, Any]:
    body: dict[str, Any] = {
        "account_id": "GLOBEX", "invoice_number": number,
        "issue_date": BASE_DAY.isoformat(),
        "due_date": (BASE_DAY + timedelta(days=30)).isoformat(), "currency": "USD",
        "po_number": "PO-1", "lines": [
            {"description": "Freight", "quantity": "2", "unit_price": 100, "tax_rate": "10"},
            {"description": "Handling", "quantity": 1.5, "unit_price": "20.00"},
        ],
    }
    if external_id is not None:
        body["external_id"] = external_id
    return body | changes


async def test_an_account_is_created_updated_and_a_resend_changes_nothing(api: Api) -> None:
    body = {"account_id": "INITECH", "name": "Initech LLC", "timezone": "America/Chicago"}
    created = await api.post("accounts", body)
    assert created.status_code == 201, created.text
    assert created.json() | {"result": "created"} == created.json()
    assert created.json()["timezone"] == "America/Chicago"
    assert created.json()["locale"] == "en"  # the default, as in a file without the column
    again = await api.post("accounts", body)
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    renamed = await api.post("accounts", {"account_id": "INITECH", "name": "Initech Inc."})
    assert (renamed.status_code, renamed.json()["result"]) == (200, "updated")
    # A field left out keeps its stored value.
    assert renamed.json()["name"] == "Initech Inc."
    assert renamed.json()["timezone"] == "America/Chicago"


async def test_a_contact_is_created_updated_and_a_resend_changes_nothing(api: Api) -> None:
    body = {"account_id": "GLOBEX", "email": "Payables@Globex.example", "name": "Pat"}
    created = await api.post("contacts", body)
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "payables@globex.example"
    assert created.json()["role"] == "ap" and created.json()["active"] is True
    again = await api.post("contacts", body)
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    changed = await api.post("contacts", body | {"role": "approver", "active": False})
    assert (changed.status_code, changed.json()["result"]) == (200, "updated")
    assert changed.json()["role"] == "approver" and changed.json()["active"] is False
    # A contact never moves to another account through the API either.
    moved = await api.post("contacts", body | {"account_id": "ACME"})
    assert moved.status_code == 422
    assert moved.json()["errors"] == [{
        "pointer": "/email",
        "message": "email 'payables@globex.example' is already a contact of account 'GLOBEX'"}]


async def test_an_invoice_is_created_updated_found_and_a_resend_changes_nothing(
    api: Api,
) -> None:
    created = await api.post("invoices", invoice())
    assert created.status_code == 201, created.text
    stored = created.json()
    assert stored["result"] == "created" and stored["source"] == "api"
    assert stored["external_id"] == "erp-1" and stored["status"] == "open"
    # 2 × 100 at 10 % + 1.5 × 20 untaxed
    assert (stored["subtotal"], stored["tax_total"], stored["total"]) == (
        "230.00", "20.00", "250.00")
    assert [line["amount"] for line in stored["lines"]] == ["200.00", "30.00"]

    again = await api.post("invoices", invoice())
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    changed = await api.post("invoices", invoice(lines=[
        {"description": "Freight", "quantity": 3, "unit_price": "100", "tax_rate": 10}]))
    assert (changed.status_code, changed.json()["result"]) == (200, "updated")
    assert changed.json()["total"] == "330.00"

    by_number = await api.get("/invoices/G-2001")
    assert by_number.status_code == 200
    assert by_number.json() == {k: v for k, v in changed.json().items() if k != "result"}
    by_id = await api.get("/invoices/external/api/erp-1")
    assert by_id.json() == by_number.json()
    assert (await api.get("/invoices/external/stripe/erp-1")).status_code == 404
    assert (await api.get("/invoices/G-9999")).json() == {"error": "not found"}
    for path in ("/invoices/G-2001%00", "/invoices/external/api/erp-1%00"):  # a NUL: 404
        crafted = await api.get(path)
        assert (crafted.status_code, crafted.json()) == (404, {"error": "not found"}), path
    calls = await AuditEvent.filter(action="vault.api.call").values_list("data", flat=True)
    assert {"path": "/api/v1/invoices/G-2001\\x00", "status": 404} in [  # NUL, as text
        {"path": c["path"], "status": c["status"]} for c in calls]  # type: ignore[index]
    # The source's id names one invoice: another number under it is refused.
    renumbered = await api.post("invoices", invoice(number="G-2002"))
    assert renumbered.json()["errors"] == [{
        "pointer": "/external_id",
        "message": "external_id 'erp-1' is invoice 'G-2001' already (an invoice keeps its "
                   "number)"}]


async def test_an_invoice_from_the_api_gets_its_pdf_alerts_and_answers_by_email(
    api: Api,
) -> None:
    assert (await api.post("invoices", invoice())).status_code == 201
    await api.alerting.tick()
    (alert,) = api.alerting.mails_to(GLOBEX)
    assert alert["Subject"].startswith("New invoice G-2001: $250.00, due ")

    running = Running(api.alerting.service, api.alerting.sink, api.alerting.config)
    await running.send(request_mail(GLOBEX, "invoice G-2001"))
    await api.alerting.sink.wait_for(2)
    reply = api.alerting.mails_to(GLOBEX)[-1]
    body = text_of(reply)
    assert "G-2001" in body and "$250.00" in body
    url = next(word for word in body.split() if "/d/" in word)
    pdf = await api.alerting.download(url)
    assert pdf.status_code == 200
    assert "G-2001" in pdf_text(pdf.content) and "PO-1" in pdf_text(pdf.content)
    # An e-invoice like every issued one: Factur-X XML valid against the EN 16931 XSD.
    assert texts(embedded_xml(pdf.content), "//rsm:ExchangedDocument/ram:ID") == ["G-2001"]
    assert pdfa_part(pdf.content) == "3"


async def test_a_payment_is_created_updated_and_a_resend_changes_nothing(api: Api) -> None:
    assert (await api.post("invoices", invoice())).status_code == 201
    payment = {"external_id": "pay-1", "account_id": "GLOBEX", "invoice_number": "G-2001",
               "amount": "100.00", "paid_on": BASE_DAY.isoformat(), "method": "wire"}
    created = await api.post("payments", payment)
    assert created.status_code == 201, created.text
    assert created.json() | {"result": "created", "amount": "100.00", "source": "api"} == (
        created.json())
    assert (await api.get("/invoices/G-2001")).json()["status"] == "partially_paid"
    again = await api.post("payments", payment)
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    corrected = await api.post("payments", payment | {"amount": 250})
    assert (corrected.status_code, corrected.json()["result"]) == (200, "updated")
    paid = (await api.get("/invoices/G-2001")).json()
    assert (paid["amount_paid"], paid["status"]) == ("250.00", "paid")

    changes = (await api.get("/changes", since="0")).json()
    kinds = [(c["kind"], c["invoice_number"], c["new_status"]) for c in changes["changes"]]
    assert kinds == [("invoice.issued", "G-2001", "open"),
                     ("payment.received", "G-2001", None),
                     ("invoice.status_changed", "G-2001", "partially_paid"),
                     ("invoice.status_changed", "G-2001", "paid")]
    later = await api.get("/changes", since=changes["next"])
    assert later.json() == {"changes": [], "next": changes["next"]}
    assert (await api.get("/changes", since="soon")).json()["errors"][0]["pointer"] == "/since"


async def test_a_batch_is_stored_all_or_nothing_and_says_where_each_problem_is(
    api: Api,
) -> None:
    bad = copy.deepcopy(invoice("G-3003", "erp-3"))
    bad["lines"][0]["quantity"] = "two"
    items = [invoice("G-3001", "erp-1"), invoice("G-3002", "erp-2", account_id="NOPE"),
             invoice("G-3004", "erp-4"), bad]
    refused = await api.post("invoices", {"items": items})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"pointer": "/items/3/lines/0/quantity",
         "message": "quantity 'two' is not a number (digits with a dot, e.g. 12.50)"},
    ]
    items[3] = invoice("G-3003", "erp-3")
    refused = await api.post("invoices", {"items": items})
    assert refused.json()["errors"] == [
        {"pointer": "/items/1/account_id", "message": "account_id 'NOPE' is not a known account"},
    ]
    assert (await api.get("/invoices/G-3001")).status_code == 404  # nothing was stored

    items[1]["account_id"] = "GLOBEX"
    stored = await api.post("invoices", {"items": items})
    assert stored.status_code == 201
    assert [i["result"] for i in stored.json()["items"]] == ["created"] * 4
    items[2]["po_number"] = "PO-2"
    again = await api.post("invoices", {"items": items})
    assert again.status_code == 200
    assert [i["result"] for i in again.json()["items"]] == [
        "unchanged", "unchanged", "updated", "unchanged"]
    too_many = await api.post("invoices", {"items": [invoice()] * 1001})
    assert too_many.json()["errors"][0]["pointer"] == "/items"


async def test_an_idempotency_key_replays_the_answer_and_refuses_another_body(
    api: Api,
) -> None:
    first = await api.post("invoices", invoice(), **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    replay = await api.post("invoices", invoice(), **{"Idempotency-Key": "k-1"})
    assert (replay.status_code, replay.json()) == (201, first.json())  # not "unchanged"
    assert replay.headers["Idempotent-Replayed"] == "true"
    other = await api.post("invoices", invoice(po_number="PO-9"), **{"Idempotency-Key": "k-1"})
    assert other.status_code == 409
    assert (await api.get("/invoices/G-2001")).json()["po_number"] == "PO-1"
    # Two calls at once with one key: one runs, the other waits and gets its answer.
    both = await asyncio.gather(*(api.post("invoices", invoice("G-2009", "erp-9"),
                                           **{"Idempotency-Key": "k-2"}) for _ in range(2)))
    assert [b.status_code for b in both] == [201, 201]
    assert sorted(b.headers.get("Idempotent-Replayed", "") for b in both) == ["", "true"]
    # Idempotency keys are per API key: another key's k-1 is its own.
    billing = await create_key("billing", ApiScope.INGEST, SYSTEM.now())
    answer = await api.call("POST", "/invoices", billing, json=invoice(po_number="PO-9"),
                            headers={"Idempotency-Key": "k-1"})
    assert (answer.status_code, answer.json()["result"]) == (200, "updated")

    # After 24 hours the key is forgotten (the service prunes hourly) and may be used again.
    api.alerting.clock.advance(timedelta(hours=24, seconds=1))
    assert await api.alerting.service.forget_idempotent_answers() == 3  # k-1 twice, k-2
    again = await api.post("invoices", invoice(po_number="PO-7"), **{"Idempotency-Key": "k-1"})
    assert (again.status_code, again.json()["po_number"]) == (200, "PO-7")


async def test_a_csv_import_of_an_api_invoice_keeps_its_source_and_external_id(
    api: Api,
) -> None:
    assert (await api.post("invoices", invoice("G-1001", "so-1"))).status_code == 201
    await api.alerting.invoices(("GLOBEX", "G-1001", 0, 30, "1250.00"))
    stored = (await api.get("/invoices/external/api/so-1")).json()
    assert (stored["invoice_number"], stored["total"]) == ("G-1001", "1250.00")
    assert (stored["source"], stored["external_id"]) == ("api", "so-1")


async def test_unknown_revoked_and_missing_keys_get_401_and_the_wrong_scope_403(
    api: Api,
) -> None:
    for key in ("ibk_" + "x" * 43, api.revoked, "not-a-key", None):
        answer = await api.call("POST", "/invoices", key, json=invoice())
        assert (answer.status_code, answer.json()) == (401, {"error": "unauthorized"})
    assert (await api.call("POST", "/invoices", api.read, json=invoice())).status_code == 403
    assert (await api.call("GET", "/invoices/G-2001", api.ingest)).status_code == 403
    assert (await api.get("/invoices/G-2001")).status_code == 404
    calls = await AuditEvent.filter(action="vault.api.call").order_by("id")
    assert [(c.data["key"], c.data["status"]) for c in calls] == [
        ("", 401), ("", 401), ("", 401), ("", 401), ("reporting", 403), ("erp", 403),
        ("reporting", 404)]
    assert not any(api.ingest in str(c.data) for c in calls)


@pytest.mark.parametrize("api", ["2/min"], indirect=True)
async def test_a_key_over_its_rate_gets_429_with_retry_after(api: Api) -> None:
    answers = [await api.get("/invoices/G-2001") for _ in range(3)]
    assert [a.status_code for a in answers] == [404, 404, 429]
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 30  # one request every 30 s
    # Each key has its own bucket.
    assert (await api.post("accounts", {"account_id": "X", "name": "X"})).status_code == 201


async def test_the_openapi_document_is_served_without_a_key(api: Api) -> None:
    answer = await api.call("GET", "/openapi.json")
    document = answer.json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) >= {"/api/v1/invoices", "/api/v1/payments",
                                      "/api/v1/changes", "/api/v1/invoices/{invoice_number}"}
    line = document["components"]["schemas"]["LineIn"]
    assert set(line["required"]) == {"description", "quantity", "unit_price"}


async def test_a_path_no_route_matches_answers_json_under_the_api_only(api: Api) -> None:
    inside = await api.call("GET", "/invoices/a%0Ab", api.read)  # no route holds a newline
    assert (inside.status_code, inside.json()) == (404, {"error": "not found"})
    outside = await api.call("GET", "/../../nothing")
    assert (outside.status_code, outside.text) == (404, "Not Found")


async def test_apikey_create_prints_a_key_once_list_shows_it_and_revoke_stops_it(
    api: Api, tmp_path: Path, database_url: str,
) -> None:
    cli = make_cli(tmp_path, database_url)
    code, out, _ = await cli.run("apikey", "create", "--name", "billing", "--scope", "ingest")
    assert code == 0
    key = out.splitlines()[0]
    assert key.startswith("ibk_") and len(key) == 47
    answer = await api.call("POST", "/accounts", key, json={"account_id": "B", "name": "B"})
    assert answer.status_code == 201

    code, out, _ = await cli.run("apikey", "list")
    billing = next(line for line in out.splitlines() if line.startswith("billing"))
    assert "ingest" in billing and key[:8] in billing and key not in out
    assert billing.endswith("-")  # not revoked

    assert (await cli.run("apikey", "revoke", "billing"))[0] == 0
    answer = await api.call("POST", "/accounts", key, json={"account_id": "B", "name": "B"})
    assert answer.status_code == 401
    code, _, err = await cli.run("apikey", "create", "--name", "billing", "--scope", "read")
    assert code == 2 and "a key of that name exists" in err
    code, _, err = await cli.run("apikey", "revoke", "nobody")
    assert code == 2 and "no active key of that name" in err


async def test_text_the_database_cannot_hold_is_refused_naming_the_field(api: Api) -> None:
    """A NUL (PostgreSQL refuses it in text) in any string field, an external id too: a
    422 that says where, not a 500 from the insert; nothing stored."""
    refused = await api.post("accounts", {"account_id": "NUL\u0000CO", "name": "Nul Co"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{
        "pointer": "/account_id",
        "message": "account_id contains the control character U+0000 at position 4, which "
                   "cannot be stored"}]
    refused = await api.post("invoices", invoice("G-5001", "erp\u0000-5"))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/external_id"
    assert (await api.get("/invoices/G-5001")).status_code == 404
