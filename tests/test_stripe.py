"""Stripe webhooks over real HTTP against the running service (tests/alerting.py: frozen
clock, the e2e accounts and contacts, a real SMTP sink), with payloads shaped like Stripe's
documented events, signed with Stripe's scheme, and a fake Stripe API (tests/fake_stripe.py)
that the real `stripe` library fetches from when an event arrives out of order."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests import fake_stripe as fs
from tests.alerting import Alerting, alert_config, at, running_alerts
from tests.fakes import SmtpSink
from tests.test_cli import make_cli
from vault.config import ConfigError
from vault.models import (
    Account,
    Contact,
    CreditNote,
    CreditNoteLine,
    Escalation,
    Invoice,
    InvoiceEvent,
    Payment,
    StripeEvent,
)
from vault.pdf import PdfRenderer
from vault.vocabulary import EscalationKind

GLOBEX = "ap@globex.example"
ISSUED = int(at(ZoneInfo("UTC"), 4).timestamp())  # an hour before the frozen clock


@dataclass
class Hook:
    alerting: Alerting
    fake: fs.FakeStripe
    sent: int = 0

    async def post(self, payload: dict[str, Any], header: str | None = None) -> httpx.Response:
        body = fs.body_of(payload)
        url = f"http://127.0.0.1:{self.alerting.service.http_port}/webhooks/stripe"
        async with httpx.AsyncClient() as client:
            return await client.post(url, content=body, headers={
                "Stripe-Signature": fs.sign(body) if header is None else header,
                "Content-Type": "application/json"})

    async def send(self, kind: str, obj: dict[str, Any]) -> httpx.Response:
        self.sent += 1
        answer = await self.post(fs.event(f"evt_{self.sent}", kind, obj))
        assert answer.status_code == 200, answer.text
        return answer


@pytest.fixture
async def hook(  # type: ignore[no-untyped-def]
    make_config, sink: SmtpSink, renderer: PdfRenderer, orm: str, tmp_path: Path
) -> AsyncIterator[Hook]:
    async with fs.FakeStripe() as fake:
        config = alert_config(
            make_config, sink, INVOICEBOT_STRIPE_ENABLED="true",
            INVOICEBOT_STRIPE_API_BASE=fake.api_base, STRIPE_API_KEY=fs.API_KEY,
            STRIPE_WEBHOOK_SECRET=f"{fs.OLD_WEBHOOK_SECRET},{fs.WEBHOOK_SECRET}")
        async with running_alerts(config, sink, renderer, tmp_path) as alerting:
            fake.customers["cus_G"] = fs.customer("cus_G", GLOBEX, "Globex", account_id="GLOBEX")
            yield Hook(alerting, fake)


async def state() -> list[tuple[Any, ...]]:
    """What a user could see of the ledger: invoices, their lines' totals and payments."""
    invoices = [(i.number, i.source, i.external_id, str(i.total), str(i.tax_total), i.status,
                 i.issue_date, i.due_date)
                for i in await Invoice.all().order_by("number")]
    payments = [(p.external_id, str(p.amount), p.paid_on, p.source)
                for p in await Payment.all().order_by("external_id")]
    return [*invoices, *payments]


async def test_a_bad_signature_or_a_stale_timestamp_gets_400_and_changes_nothing(
    hook: Hook,
) -> None:
    payload = fs.event("evt_bad", "invoice.finalized",
                       fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED))
    body = fs.body_of(payload)
    forged = await hook.post(payload, fs.sign(body, secret="whsec_someone_else"))
    stale = await hook.post(payload, fs.sign(body, at=int(time.time()) - 301))
    unsigned = await hook.post(payload, header="")
    assert [forged.status_code, stale.status_code, unsigned.status_code] == [400, 400, 400]
    assert await Invoice.all().count() == 0 and await StripeEvent.all().count() == 0
    # Signed with the older of the two rotating secrets: accepted.
    older = await hook.post(payload, fs.sign(body, secret=fs.OLD_WEBHOOK_SECRET))
    assert older.status_code == 200
    assert await Invoice.filter(number="ST-0001").count() == 1


async def test_customer_events_make_the_account_and_its_billing_contact(hook: Hook) -> None:
    await hook.send("customer.created", fs.customer("cus_NEW", "billing@initech.example",
                                                    "Initech"))
    # No metadata.account_id: the account's id is the customer id.
    account = await Account.get(account_id="cus_NEW")
    assert account.name == "Initech"
    contact = await Contact.get(email="billing@initech.example")
    assert contact.account_id == account.id and contact.active
    await hook.send("customer.updated", fs.customer("cus_NEW", "billing@initech.example",
                                                    "Initech LLC"))
    assert (await Account.get(account_id="cus_NEW")).name == "Initech LLC"
    # With metadata.account_id: our existing account.
    await hook.send("customer.created", fs.customer("cus_A", "finance@globex.example",
                                                    "Globex", account_id="GLOBEX"))
    contact = await Contact.get(email="finance@globex.example").prefetch_related("account")
    assert contact.account.account_id == "GLOBEX"


async def test_finalized_issues_the_invoice_with_our_pdf_and_voided_voids_it(
    hook: Hook,
) -> None:
    await hook.send("invoice.finalized", fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED))
    stored = await Invoice.get(number="ST-0001")
    assert (stored.source, stored.external_id, stored.status) == ("stripe", "in_1", "open")
    assert (str(stored.subtotal), str(stored.tax_total), str(stored.total)) == (
        "230.00", "20.00", "250.00")
    assert (stored.due_date - stored.issue_date).days == 30
    assert stored.document_id is not None  # our PDF, rendered at issue
    await hook.send("invoice.voided", fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED,
                                                 status="void"))
    assert (await Invoice.get(number="ST-0001")).status == "void"
    # An older invoice.updated delivered late does not bring it back: a void is final.
    await hook.send("invoice.updated", fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED))
    assert (await Invoice.get(number="ST-0001")).status == "void"


async def test_the_same_event_twice_changes_nothing(hook: Hook) -> None:
    payload = fs.event("evt_once", "invoice.finalized",
                       fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED))
    first = await hook.post(payload)
    before = (await state(), await InvoiceEvent.all().count())
    again = await hook.post(payload)
    assert (first.json()["result"], again.json()["result"]) == ("handled", "duplicate")
    assert (await state(), await InvoiceEvent.all().count()) == before


async def test_paid_before_finalized_ends_in_the_same_state_as_in_order(hook: Hook) -> None:
    finalized = fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED)
    paid = fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED, paid=True)
    await hook.send("invoice.finalized", finalized)
    await hook.send("invoice.paid", paid)
    in_order = await state()
    assert in_order[-1][:2] == ("pi_in_1", "250.00")
    assert in_order[0][5] == "paid"

    # Out of order for a second invoice: paid first (fetched from Stripe), then finalized.
    finalized2 = fs.invoice("in_2", "cus_G", "ST-0002", created=ISSUED)
    paid2 = fs.invoice("in_2", "cus_G", "ST-0002", created=ISSUED, paid=True)
    hook.fake.invoices["in_2"] = paid2
    await hook.send("invoice.paid", paid2)
    assert "GET /v1/invoices/in_2" in hook.fake.requests
    await hook.send("invoice.finalized", finalized2)
    rows = await state()
    first = [r for r in rows if "ST-0001" in r or "pi_in_1" in r]
    second = [r for r in rows if "ST-0002" in r or "pi_in_2" in r]
    assert [r[3:] if len(r) > 4 else r[1:] for r in second] == [
        r[3:] if len(r) > 4 else r[1:] for r in first]


async def test_an_instant_contact_gets_one_open_to_paid_alert(hook: Hook) -> None:
    await hook.send("invoice.finalized", fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED))
    await hook.alerting.tick()
    (new,) = hook.alerting.mails_to(GLOBEX)
    assert new["Subject"].startswith("New invoice ST-0001: $250.00")
    paid = fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED, paid=True)
    await hook.send("invoice.paid", paid)
    await hook.send("invoice.updated", paid)  # Stripe sends both; one alert
    await hook.alerting.tick()
    await hook.alerting.tick()
    mails = hook.alerting.mails_to(GLOBEX)
    assert len(mails) == 2, [m["Subject"] for m in mails]
    assert "ST-0001" in mails[1]["Subject"] and "paid" in mails[1]["Subject"].lower()


async def test_what_the_vault_does_not_follow_becomes_an_ar_item(hook: Hook) -> None:
    open_invoice = fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED)
    await hook.send("invoice.finalized", open_invoice)
    await hook.send("invoice.payment_failed", open_invoice | {"attempt_count": 2})
    await hook.send("invoice.marked_uncollectible", open_invoice | {"status": "uncollectible"})
    await hook.send("charge.refunded", {"id": "ch_1", "object": "charge", "amount": 25000,
                                        "amount_refunded": 5000, "currency": "usd",
                                        "invoice": "in_1", "refunded": False})
    assert (await Invoice.get(number="ST-0001")).status == "open"  # still owed
    items = await Escalation.filter(kind=EscalationKind.BILLING).order_by("id")
    summaries = [e.summary for e in items]
    assert len(summaries) == 3, summaries
    assert "payment attempt failed" in summaries[0] and "ST-0001" in summaries[0]
    assert "uncollectible" in summaries[1]
    assert "refunded 50.00 USD" in summaries[2]
    # What the vault refuses is not retried forever: answered 200, an AR item says why.
    yen = fs.invoice("in_9", "cus_G", "ST-0009", created=ISSUED) | {"currency": "jpy"}
    await hook.send("invoice.finalized", yen)
    assert not await Invoice.exists(number="ST-0009")
    refused = await Escalation.filter(kind=EscalationKind.BILLING).order_by("-id").first()
    assert refused is not None and "has no cents" in refused.summary


async def credit_notes() -> list[tuple[Any, ...]]:
    return [(n.number, n.source, n.external_id, str(n.amount), str(n.tax_total), n.invoice_id,
             n.document_id is not None) for n in await CreditNote.all().order_by("number")]


async def test_credit_note_created_stores_the_credit_note_and_twice_changes_nothing(
    hook: Hook,
) -> None:
    # The invoice is not here yet: it is fetched from Stripe first.
    hook.fake.invoices["in_1"] = fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED)
    note = fs.credit_note("cn_1", "cus_G", "ST-0001-CN-01", "in_1", created=ISSUED)
    event = fs.event("evt_cn", "credit_note.created", note)
    assert (await hook.post(event)).json()["result"] == "handled"
    invoice = await Invoice.get(number="ST-0001")
    assert await credit_notes() == [
        ("ST-0001-CN-01", "stripe", "cn_1", "22.00", "2.00", invoice.id, True)]
    assert (invoice.amount_credited, invoice.status) == (Decimal("22.00"), "partially_paid")
    assert not await Escalation.filter(kind=EscalationKind.BILLING).exists()
    seen = (await state(), await credit_notes(),
            await InvoiceEvent.all().count(), await CreditNoteLine.all().count())

    again = await hook.post(event)  # the same event, delivered twice
    assert again.json()["result"] == "duplicate"
    await hook.send("credit_note.created", note)  # the same note in another event
    assert (await state(), await credit_notes(), await InvoiceEvent.all().count(),
            await CreditNoteLine.all().count()) == seen


async def test_unknown_event_types_are_answered_200_and_ignored(hook: Hook) -> None:
    answer = await hook.send("customer.subscription.created", {"id": "sub_1"})
    assert answer.json()["result"] == "ignored"
    assert await Invoice.all().count() == 0


async def test_a_failure_is_answered_500_so_stripe_retries(hook: Hook) -> None:
    # The customer is unknown here and Stripe's API cannot be reached for it.
    hook.fake.customers.clear()
    payload = fs.event("evt_retry", "invoice.finalized",
                       fs.invoice("in_1", "cus_G", "ST-0001", created=ISSUED))
    failed = await hook.post(payload)
    assert failed.status_code == 500
    assert not await StripeEvent.exists(event_id="evt_retry")
    hook.fake.customers["cus_G"] = fs.customer("cus_G", GLOBEX, "Globex", account_id="GLOBEX")
    retried = await hook.post(payload)
    assert retried.status_code == 200
    assert await Invoice.filter(number="ST-0001").count() == 1


async def test_stripe_sync_loads_a_history_silently(
    hook: Hook, tmp_path: Path, database_url: str,
) -> None:
    fake = hook.fake
    fake.customers["cus_N"] = fs.customer("cus_N", "billing@initech.example", "Initech")
    old = ISSUED - 60 * 86400
    fake.invoices = {
        "in_1": fs.invoice("in_1", "cus_G", "ST-0001", created=old, paid=True),
        "in_2": fs.invoice("in_2", "cus_N", "ST-0002", created=ISSUED),  # new, yet silent
        "in_3": fs.invoice("in_3", "cus_G", "", created=ISSUED, status="draft"),
        "in_4": fs.invoice("in_4", "cus_G", "ST-0004", created=old, status="void"),
    }
    fake.invoices["in_3"]["number"] = None
    fake.credit_notes["cn_1"] = fs.credit_note("cn_1", "cus_N", "ST-0002-CN-01", "in_2",
                                               created=ISSUED)
    for n in range(5, 130):  # more than one page of 100
        fake.invoices[f"in_{n}"] = fs.invoice(f"in_{n}", "cus_N", f"ST-{n:04d}",
                                              created=old + n)
    cli = make_cli(tmp_path, database_url)
    cli.env |= {"INVOICEBOT_STRIPE_ENABLED": "true", "INVOICEBOT_STRIPE_API_BASE": fake.api_base,
                "STRIPE_API_KEY": fs.API_KEY, "STRIPE_WEBHOOK_SECRET": fs.WEBHOOK_SECRET}
    code, out, err = await cli.run("stripe", "sync")
    assert code == 0, err
    assert ("stripe sync: 2 customers, 128 invoices, 1 payments, 1 credit notes; 0 skipped"
            in out), out
    assert [n[:4] for n in await credit_notes()] == [
        ("ST-0002-CN-01", "stripe", "cn_1", "22.00")]
    assert (await Invoice.get(number="ST-0001")).status == "paid"
    assert (await Invoice.get(number="ST-0004")).status == "void"
    assert (await Invoice.get(number="ST-0002").prefetch_related("account")).account.account_id \
        == "cus_N"
    assert await Invoice.filter(source="stripe").count() == 128
    await hook.alerting.tick()
    assert hook.alerting.sink.messages == []  # history is not news
    # Run again: nothing changes.
    before = await state()
    code, out, _ = await cli.run("stripe", "sync", "--since", "2000-01-01")
    assert code == 0 and await state() == before
    # --since: only what was created from that day on is listed.
    since = at(ZoneInfo("UTC"), 0).date().isoformat()
    code, out, _ = await cli.run("stripe", "sync", "--since", since)
    assert "0 customers, 1 invoices, 0 payments" in out, out


async def test_stripe_sync_needs_stripe_enabled_and_an_api_key(
    tmp_path: Path, database_url: str, orm: str,
) -> None:
    cli = make_cli(tmp_path, database_url)
    code, _, err = await cli.run("stripe", "sync")
    assert code != 0 and "stripe.enabled is false" in err
    cli.env |= {"INVOICEBOT_STRIPE_ENABLED": "true", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
    code, _, err = await cli.run("stripe", "sync")
    assert code != 0 and "STRIPE_API_KEY is not set" in err


def test_stripe_config_needs_its_secret_and_keeps_secrets_out_of_repr(make_config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET is not set"):
        make_config(INVOICEBOT_STRIPE_ENABLED="true")
    named = r"INVOICEBOT_STRIPE_ACCOUNT_ID_FROM \(environment\): 'email' must be"
    with pytest.raises(ConfigError, match=named):
        make_config(INVOICEBOT_STRIPE_ENABLED="true", STRIPE_WEBHOOK_SECRET="whsec_a",
                    INVOICEBOT_STRIPE_ACCOUNT_ID_FROM="email")
    config = make_config(INVOICEBOT_STRIPE_ENABLED="true",
                         STRIPE_WEBHOOK_SECRET=" whsec_a , whsec_b ", STRIPE_API_KEY="sk_x")
    assert config.stripe.webhook_secrets == ("whsec_a", "whsec_b")
    assert "whsec_" not in repr(config) and "sk_x" not in repr(config)
    assert make_config().stripe is None  # off by default
