"""Credit notes over real HTTP against the running service (the API fixture of
tests/test_api.py): stored, updated and re-sent through POST /api/v1/credit-notes, listed
with their invoice, issued as a Factur-X PDF/A-3 of type 381, and told in the bot's email
answer about the invoice with the reduced amount due and a link to the credit note."""

# ruff: noqa: F811  (`api` is tests.test_api's fixture, imported: each test names it)
from __future__ import annotations

import copy
import io
import zipfile
from typing import Any

import facturx
import pytest

from tests.alerting import BASE_DAY, pdf_text, text_of
from tests.harness import Running, request_mail
from tests.test_api import GLOBEX, Api, api, invoice  # noqa: F401  (the fixture)
from tests.test_facturx import NS, business_rule_failures, embedded_xml, pdfa_part, texts
from vault.models import AlertPreference, Contact, CreditNote, Document
from vault.pdf import PdfRenderer
from vault.vocabulary import AlertEvent, Cadence, Channel

NUMBER = "GLX-2001"  # letters enough for the bot to read it as an invoice number
ISSUED = BASE_DAY.isoformat()


@pytest.fixture(autouse=True)
async def warm(renderer: PdfRenderer) -> None:
    """Workers started before the first call: a cold start can outlast the client's 5 s."""
    await renderer.warm_up()


def credit_note(number: str = "CN-1", external_id: str | None = "erp-cn-1",
                **changes: Any) -> dict[str, Any]:
    """10 % back on the freight of tests.test_api.invoice(): 1 × 20.00 taxed 10 % = 22.00."""
    body: dict[str, Any] = {
        "credit_note_number": number, "account_id": "GLOBEX", "invoice_number": NUMBER,
        "issue_date": ISSUED, "currency": "USD", "amount": "22.00",
        "reason": "Damaged pallet", "lines": [
            {"description": "Freight refund", "quantity": 1, "unit_price": "20", "tax_rate": 10}],
    }
    if external_id is not None:
        body["external_id"] = external_id
    return body | changes


async def stored_pdf(api: Api, number: str) -> bytes:
    note = await CreditNote.get(number=number)
    assert note.document_id is not None, "the credit note has no PDF"
    document = await Document.get(id=note.document_id)
    return await api.alerting.service.store.read(document)


async def test_a_credit_note_is_created_updated_and_a_resend_changes_nothing(
    api: Api,
) -> None:
    assert (await api.post("invoices", invoice(NUMBER))).status_code == 201  # total 250.00
    created = await api.post("credit-notes", credit_note())
    assert created.status_code == 201, created.text
    stored = created.json()
    assert stored["result"] == "created" and stored["source"] == "api"
    assert (stored["credit_note_number"], stored["invoice_number"], stored["amount"]) == (
        "CN-1", NUMBER, "22.00")
    assert (stored["subtotal"], stored["tax_total"]) == ("20.00", "2.00")

    found = (await api.get(f"/invoices/{NUMBER}")).json()
    assert (found["amount_credited"], found["amount_due"], found["status"]) == (
        "22.00", "228.00", "partially_paid")
    assert [n["credit_note_number"] for n in found["credit_notes"]] == ["CN-1"]

    again = await api.post("credit-notes", credit_note())
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    changed = await api.post("credit-notes", credit_note(amount=None, lines=[
        {"description": "Freight refund", "quantity": 2, "unit_price": "20", "tax_rate": 10}]))
    assert (changed.status_code, changed.json()["result"]) == (200, "updated")
    assert changed.json()["amount"] == "44.00"
    assert (await api.get(f"/invoices/{NUMBER}")).json()["amount_due"] == "206.00"

    changes = (await api.get("/changes", since="0")).json()["changes"]
    credited = [(c["kind"], c["invoice_number"], c["credit_note_number"], c["amount"])
                for c in changes if c["kind"] == "credit_note.issued"]
    assert credited == [("credit_note.issued", NUMBER, "CN-1", "22.00")]  # issued once
    # The source's id names one credit note; another number under it is refused.
    renumbered = await api.post("credit-notes", credit_note(number="CN-2"))
    assert renumbered.json()["errors"][0]["pointer"] == "/external_id"


async def test_a_credit_note_covering_the_balance_settles_the_invoice(
    api: Api,
) -> None:
    assert (await api.post("invoices", invoice(NUMBER))).status_code == 201
    whole = credit_note(amount="250.00", lines=[])
    assert (await api.post("credit-notes", whole)).status_code == 201
    found = (await api.get(f"/invoices/{NUMBER}")).json()
    assert (found["amount_due"], found["status"]) == ("0.00", "paid")
    # Nothing is left to credit on it: more is refused, and says where.
    more = await api.post("credit-notes", credit_note("CN-2", "erp-cn-2", amount="1.00",
                                                      lines=[]))
    assert more.status_code == 422
    assert more.json()["errors"][0]["pointer"] == "/amount"
    # An unallocated credit (no invoice) is stored on the account alone.
    free = await api.post("credit-notes", credit_note("CN-3", "erp-cn-3", invoice_number=None))
    assert (free.status_code, free.json()["invoice_number"]) == (201, None)


async def test_a_batch_of_credit_notes_is_all_or_nothing_with_pointers(
    api: Api,
) -> None:
    assert (await api.post("invoices", invoice(NUMBER))).status_code == 201
    bad_line = copy.deepcopy(credit_note("CN-3", "erp-cn-3"))
    bad_line["lines"][0]["quantity"] = "one"
    items = [credit_note("CN-1", "erp-cn-1"),
             credit_note("CN-2", "erp-cn-2", account_id="NOPE"), bad_line]
    refused = await api.post("credit-notes", {"items": items})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"pointer": "/items/2/lines/0/quantity",
         "message": "quantity 'one' is not a number (digits with a dot, e.g. 12.50)"}]
    items[2] = credit_note("CN-3", "erp-cn-3", currency="EUR")
    refused = await api.post("credit-notes", {"items": items})
    assert refused.json()["errors"] == [
        {"pointer": "/items/1/account_id", "message": "account_id 'NOPE' is not a known account"},
        {"pointer": "/items/2/currency",
         "message": "currency 'EUR' is not the currency of invoice 'GLX-2001' (USD)"}]
    assert not await CreditNote.exists()  # nothing was stored
    items[1]["account_id"], items[2]["currency"] = "GLOBEX", "USD"
    stored = await api.post("credit-notes", {"items": items})
    assert stored.status_code == 201, stored.text
    assert [i["result"] for i in stored.json()["items"]] == ["created"] * 3
    assert (await api.get(f"/invoices/{NUMBER}")).json()["amount_due"] == "184.00"


async def test_the_credit_note_pdf_is_a_factur_x_381_referencing_its_invoice(
    api: Api,
) -> None:
    assert (await api.post("invoices", invoice(NUMBER))).status_code == 201
    assert (await api.post("credit-notes", credit_note())).status_code == 201
    pdf = await stored_pdf(api, "CN-1")

    assert pdfa_part(pdf) == "3"
    root = embedded_xml(pdf)  # extracted and checked against the EN 16931 XSD
    assert (facturx.get_flavor(root), facturx.get_level(root)) == ("factur-x", "en16931")
    assert texts(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert texts(root, "//rsm:ExchangedDocument/ram:ID") == ["CN-1"]
    assert texts(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [NUMBER]
    totals = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert [texts(root, totals + name)[0] for name in (
        "TaxBasisTotalAmount", "TaxTotalAmount", "GrandTotalAmount", "DuePayableAmount")] == [
        "20.00", "2.00", "22.00", "22.00"]
    assert not root.xpath("//ram:SpecifiedTradeSettlementPaymentMeans", namespaces=NS)
    assert business_rule_failures(root) == []
    page = pdf_text(pdf)
    assert "Credit note" in page and "CN-1" in page and NUMBER in page
    assert "Damaged pallet" in page


async def test_the_email_answer_shows_the_reduced_amount_due_and_the_credit_note(
    api: Api,
) -> None:
    assert (await api.post("invoices", invoice(NUMBER))).status_code == 201
    assert (await api.post("credit-notes", credit_note())).status_code == 201

    running = Running(api.alerting.service, api.alerting.sink, api.alerting.config)
    before = len(api.alerting.sink.messages)
    await running.send(request_mail(GLOBEX, f"invoice {NUMBER}"))
    await api.alerting.sink.wait_for(before + 1)
    body = text_of(api.alerting.mails_to(GLOBEX)[-1])
    assert "Amount due: $228.00" in body, body
    assert "Credit note CN-1" in body and "$22.00" in body
    link = next(line for line in body.splitlines() if "Credit note CN-1 for invoice" in line)
    url = next(word for word in (link + " " + _next_line(body, link)).split() if "/d/" in word)
    pdf = await api.alerting.download(url)
    assert pdf.status_code == 200
    assert "Credit note" in pdf_text(pdf.content) and NUMBER in pdf_text(pdf.content)


async def test_a_zip_of_the_period_holds_its_credit_notes(api: Api) -> None:
    assert (await api.post("invoices", invoice(NUMBER))).status_code == 201
    assert (await api.post("credit-notes", credit_note())).status_code == 201
    running = Running(api.alerting.service, api.alerting.sink, api.alerting.config)
    before = len(api.alerting.sink.messages)
    month = BASE_DAY.strftime("%B %Y")
    await running.send(request_mail(GLOBEX, f"all invoices of {month} as a zip"))
    await api.alerting.sink.wait_for(before + 1)
    body = text_of(api.alerting.mails_to(GLOBEX)[-1])
    assert "CN-1" in body, body
    url = next(word for word in body.split() if "/d/" in word)
    archive = zipfile.ZipFile(io.BytesIO((await api.alerting.download(url)).content))
    assert {"GLX-2001.pdf", "CN-1.pdf", "index.csv"} <= set(archive.namelist())
    assert "CN-1" in archive.read("index.csv").decode()


async def test_the_statement_lists_the_credit_note_reducing_the_balance(api: Api) -> None:
    assert (await api.post("invoices", invoice(NUMBER))).status_code == 201
    assert (await api.post("credit-notes", credit_note())).status_code == 201
    boss = "controller@globex.example"
    made = await api.post("contacts", {"account_id": "GLOBEX", "email": boss,
                                       "role": "approver"})
    assert made.status_code == 201, made.text
    running = Running(api.alerting.service, api.alerting.sink, api.alerting.config)
    before = len(api.alerting.sink.messages)
    await running.send(request_mail(boss, f"statement {BASE_DAY.year}"))
    await api.alerting.sink.wait_for(before + 1)
    body = text_of(api.alerting.mails_to(boss)[-1])
    url = next(word for word in body.split() if "/d/" in word)
    page = pdf_text((await api.alerting.download(url)).content)
    assert "Credit note" in page and "CN-1" in page and f"for {NUMBER}" in page, page
    assert "Credit notes" in page and "228.00" in page  # the closing balance


async def test_a_credit_note_left_without_its_pdf_gets_it_at_the_next_sweep(api: Api) -> None:
    assert (await api.post("invoices", invoice(NUMBER))).status_code == 201
    assert (await api.post("credit-notes", credit_note())).status_code == 201
    issued = await stored_pdf(api, "CN-1")
    await CreditNote.filter(number="CN-1").update(document_id=None)  # a render that failed
    assert await api.alerting.service.sweep_missing_pdfs() == 1
    assert await stored_pdf(api, "CN-1") == issued  # the same bytes, stored once
    assert await api.alerting.service.sweep_missing_pdfs() == 0


async def test_a_contact_who_chose_credit_note_alerts_is_told_of_one(api: Api) -> None:
    contact = await Contact.get(email=GLOBEX)
    await AlertPreference.create(contact=contact, channels=[Channel.EMAIL],
                                 events=[AlertEvent.CREDIT_NOTE_ISSUED], cadence=Cadence.INSTANT,
                                 updated_at=api.alerting.clock.now())
    assert (await api.post("invoices", invoice(NUMBER))).status_code == 201
    assert (await api.post("credit-notes", credit_note())).status_code == 201
    await api.alerting.tick()
    (alert,) = api.alerting.mails_to(GLOBEX)  # not the invoice: only credit notes chosen
    assert alert["Subject"].startswith(f"Credit note for invoice {NUMBER}: $22.00")
    assert "$228.00" in text_of(alert)  # what is still open


def _next_line(body: str, line: str) -> str:
    lines = body.splitlines()
    index = lines.index(line)
    return lines[index + 1] if index + 1 < len(lines) else ""


async def test_a_receipt_counts_the_credit_notes_issued_by_its_payments_day(api: Api) -> None:
    """250.00 invoiced, 22.00 credited, then 100.00 paid: the receipt's "Still due" is
    128.00, as the invoice's status says, not the 150.00 payments alone would leave."""
    assert (await api.post("invoices", invoice(NUMBER))).status_code == 201
    assert (await api.post("credit-notes", credit_note())).status_code == 201
    payment = {"account_id": "GLOBEX", "invoice_number": NUMBER, "amount": "100.00",
               "paid_on": ISSUED, "reference": "WIRE-7"}
    assert (await api.post("payments", payment)).status_code == 201

    running = Running(api.alerting.service, api.alerting.sink, api.alerting.config)
    before = len(api.alerting.sink.messages)
    await running.send(request_mail(GLOBEX, f"invoice {NUMBER}"))
    await api.alerting.sink.wait_for(before + 1)
    body = text_of(api.alerting.mails_to(GLOBEX)[-1])
    assert "Amount due: $128.00" in body, body
    link = next(line for line in body.splitlines() if line.startswith(f"Receipt {NUMBER}"))
    url = next(word for word in (link + " " + _next_line(body, link)).split() if "/d/" in word)
    receipt = pdf_text((await api.alerting.download(url)).content)
    assert "Credited to date $22.00" in receipt, receipt
    assert "Still due $128.00" in receipt
