"""Stripe's customers, invoices and payments -> the vault, through the API's writer
(vault.api.ingest: the same planners, transactions, events and PDFs as every source).

Used by `POST /webhooks/stripe` (vault.api.stripe_hook) and `invoicebot stripe sync`.
Stripe objects arrive as plain dicts (the event's JSON, or `to_dict()` of what the
`stripe` library fetched). Amounts are in the currency's minor unit: two-decimal
currencies only (what the vault's money columns hold).

What each event does (README "Connecting your billing system"):
- customer.created/updated: the account (id from stripe.account_id_from, else the
  customer id) and its billing contact (the customer's email);
- invoice.finalized/updated: the invoice as issued (Stripe's number, lines, due date,
  tax per line); drafts are ignored until they have a number;
- invoice.voided: the invoice, void;
- invoice.paid: a payment of amount_paid, keyed by the payment intent (or charge);
- credit_note.created: the credit note (Stripe's number, keyed by its id), allocated to
  its invoice (fetched first if it is not here yet), with Stripe's lines and tax when they
  add up to Stripe's total, else as one line of that total;
- invoice.payment_failed, invoice.marked_uncollectible, charge.refunded: no change to the
  ledger (Stripe keeps the invoice owed, a refund is not a payment): an AR item
  (EscalationKind.BILLING).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import stripe
from pydantic import BaseModel, ValidationError

from vault.api.ingest import Context, Invalid, OnIssued, ingest
from vault.api.schemas import AccountIn, ContactIn, CreditNoteIn, InvoiceIn, PaymentIn
from vault.clock import Clock
from vault.config import StripeConfig
from vault.escalations import escalate
from vault.ingest.drafts import LineDraft, compute_totals
from vault.models import Account, Invoice, StripeCustomer, StripeEvent
from vault.vocabulary import EscalationKind, InvoiceStatus, Source

log = logging.getLogger(__name__)

_CENTS = Decimal(100)
# Stripe's zero-decimal currencies: their amounts are not in cents (refused, not misread).
_ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG",
                           "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})
_Q4 = Decimal("0.0001")
_Q3 = Decimal("0.001")


class Unusable(Exception):
    """Stripe sent something the vault cannot store (retrying will not help): AR is told."""


class StripeApi:
    """Stripe's API through the official library (its calls block: run in a thread)."""

    def __init__(self, config: StripeConfig) -> None:
        self.client = stripe.StripeClient(config.api_key, base_addresses={"api": config.api_base},
                                          max_network_retries=2)

    async def fetch(self, kind: str, object_id: str) -> dict[str, Any]:
        """One customer or invoice ("customers", "invoices") by id."""
        return await asyncio.to_thread(self._fetch, kind, object_id)

    async def all(self, kind: str, since: date | None) -> list[dict[str, Any]]:
        """Every customer or invoice created on or after `since`, oldest first."""
        return await asyncio.to_thread(self._all, kind, since)

    def _service(self, kind: str) -> Any:
        """"customers", "invoices" or "credit_notes"."""
        return getattr(self.client.v1, kind)

    def _fetch(self, kind: str, object_id: str) -> dict[str, Any]:
        return self._whole(kind, self._service(kind).retrieve(object_id).to_dict())

    def _all(self, kind: str, since: date | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": 100}
        if since is not None:
            start = datetime.combine(since, datetime.min.time(), UTC)
            params["created"] = {"gte": int(start.timestamp())}
        listed = self._service(kind).list(params).auto_paging_iter()
        found = [self._whole(kind, item.to_dict()) for item in listed]
        return sorted(found, key=lambda o: (o["created"], o["id"]))

    def _whole(self, kind: str, found: dict[str, Any]) -> dict[str, Any]:
        """An invoice with all its lines (Stripe embeds the first few)."""
        if kind == "invoices" and found.get("lines", {}).get("has_more"):
            lines = self.client.v1.invoices.line_items.list(found["id"], {"limit": 100})
            found["lines"] = {"data": [line.to_dict() for line in lines.auto_paging_iter()]}
        return found


@dataclass(frozen=True)
class Synced:
    customers: int
    invoices: int
    payments: int
    skipped: list[str]  # what could not be stored, and why
    credit_notes: int = 0


@dataclass
class StripeLedger:
    """Applies Stripe's objects to the vault; `fetch` gets what an event does not carry."""

    config: StripeConfig
    clock: Clock
    timezone: ZoneInfo  # the seller's: Stripe's timestamps become our dates there
    api: StripeApi
    on_issued: OnIssued | None = None
    on_credited: OnIssued | None = None  # renders the PDFs of credit notes stored

    async def handle(self, event: dict[str, Any]) -> str:
        """Apply one event once; answers what was done (for the log and the tests)."""
        event_id, kind = str(event["id"]), str(event["type"])
        if await StripeEvent.exists(event_id=event_id):
            return "duplicate"
        handler = _HANDLERS.get(kind)
        if handler is None:
            return "ignored"
        obj = event["data"]["object"]
        try:
            await handler(self, obj)
        except Unusable as exc:
            await self.tell_ar(f"stripe:unusable:{event_id}", None,
                               f"Stripe {kind} {obj.get('id')}: not stored: {exc}")
        await StripeEvent.get_or_create(event_id=event_id, defaults={
            "type": kind, "received_at": self.clock.now()})
        return "handled"

    # ---- objects ------------------------------------------------------------------------

    async def customer(self, customer: dict[str, Any]) -> str:
        """Store the account and billing contact; answers our account_id."""
        if customer.get("deleted"):
            raise Unusable("the customer was deleted")
        account_id = self.account_id_of(customer)
        name = customer.get("name") or customer.get("email") or customer["id"]
        await self._store("accounts", AccountIn, {"account_id": account_id, "name": name})
        if email := customer.get("email"):
            contact = {"account_id": account_id, "email": email}
            if customer.get("name"):
                contact["name"] = customer["name"]
            await self._store("contacts", ContactIn, contact)
        await StripeCustomer.update_or_create(customer_id=customer["id"],
                                              defaults={"account_id": account_id})
        return account_id

    def account_id_of(self, customer: dict[str, Any]) -> str:
        path = self.config.account_id_from
        if path.startswith("metadata."):
            found = (customer.get("metadata") or {}).get(path.removeprefix("metadata."))
            if found:
                return str(found)
        return str(customer["id"])

    async def account_of(self, customer: str | dict[str, Any]) -> str:
        """Our account_id for an invoice's customer; fetched and stored if not known yet."""
        if isinstance(customer, dict):
            return await self.customer(customer)
        known = await StripeCustomer.get_or_none(customer_id=customer)
        if known is not None and await Account.exists(account_id=known.account_id):
            return known.account_id
        return await self.customer(await self.api.fetch("customers", customer))

    async def invoice(self, invoice: dict[str, Any]) -> str | None:
        """Store the invoice as Stripe has it; answers its number (None: still a draft)."""
        if not invoice.get("number") or invoice.get("status") == "draft":
            return None
        if invoice.get("status") != "void" and await Invoice.exists(
                source=Source.STRIPE, external_id=invoice["id"], status=InvoiceStatus.VOID):
            return None  # an older event arriving late: a void is final in Stripe
        if str(invoice["currency"]).upper() in _ZERO_DECIMAL:
            raise Unusable(f"currency {invoice['currency']!r} has no cents; the vault reads "
                           "Stripe amounts as cents")
        account_id = await self.account_of(invoice["customer"])
        issued = self._date(invoice.get("status_transitions", {}).get("finalized_at")
                            or invoice["created"])
        due = self._date(invoice["due_date"]) if invoice.get("due_date") else issued
        body = {
            "external_id": invoice["id"], "account_id": account_id,
            "invoice_number": invoice["number"], "issue_date": issued.isoformat(),
            "due_date": max(due, issued).isoformat(),
            "currency": str(invoice["currency"]).upper(),
            "status": "void" if invoice.get("status") == "void" else "",
            "lines": [_line(line) for line in invoice["lines"]["data"]],
        }
        if not body["lines"]:
            raise Unusable("the invoice has no lines")
        await self._store("invoices", InvoiceIn, body)
        return str(invoice["number"])

    async def paid(self, invoice: dict[str, Any]) -> None:
        """The invoice (stored first, as Stripe has it now, if it is not here yet: the
        event came before invoice.finalized) and its payment."""
        if not await Invoice.exists(source=Source.STRIPE, external_id=invoice["id"]):
            invoice = await self.api.fetch("invoices", invoice["id"])
        await self.invoice_and_payment(invoice)

    async def invoice_and_payment(self, invoice: dict[str, Any]) -> bool:
        """Store the invoice and, if anything was paid, its payment, keyed by the payment
        intent or charge; answers whether there was a payment."""
        number = await self.invoice(invoice)
        if number is None or not invoice.get("amount_paid"):
            return False  # nothing owed was paid (a zero invoice)
        key = _id(invoice.get("payment_intent")) or _id(invoice.get("charge")) or (
            f"{invoice['id']}:paid")
        paid_at = invoice.get("status_transitions", {}).get("paid_at") or invoice["created"]
        await self._store("payments", PaymentIn, {
            "external_id": key, "account_id": await self.account_of(invoice["customer"]),
            "invoice_number": number, "amount": str(Decimal(invoice["amount_paid"]) / _CENTS),
            "paid_on": self._date(paid_at).isoformat(), "reference": key, "method": "stripe",
        })
        return True

    async def sync(self, since: date | None) -> Synced:
        """Customers, then invoices and their payments, then credit notes, as Stripe has
        them now (the caller silences alerts: history is not news). What cannot be stored
        is skipped and named."""
        skipped: list[str] = []
        customers = invoices = payments = 0
        for customer in await self.api.all("customers", since):
            try:
                await self.customer(customer)
                customers += 1
            except Unusable as exc:
                skipped.append(f"customer {customer['id']}: {exc}")
        for invoice in await self.api.all("invoices", since):
            try:
                payments += await self.invoice_and_payment(invoice)
                invoices += invoice.get("number") is not None and invoice["status"] != "draft"
            except Unusable as exc:
                skipped.append(f"invoice {invoice.get('number') or invoice['id']}: {exc}")
        credit_notes = 0
        for note in await self.api.all("credit_notes", since):
            try:
                await self.credit_note(note)
                credit_notes += 1
            except Unusable as exc:
                skipped.append(f"credit note {note.get('number') or note['id']}: {exc}")
        return Synced(customers, invoices, payments, skipped, credit_notes)

    # ---- AR items -----------------------------------------------------------------------

    async def payment_failed(self, invoice: dict[str, Any]) -> None:
        await self._ar_invoice(invoice, "payment_failed", "a payment attempt failed "
                               f"(attempt {invoice.get('attempt_count', '?')}); still owed")

    async def uncollectible(self, invoice: dict[str, Any]) -> None:
        await self._ar_invoice(invoice, "uncollectible",
                               "marked uncollectible in Stripe; kept as owed here")

    async def refunded(self, charge: dict[str, Any]) -> None:
        amount = Decimal(charge.get("amount_refunded", 0)) / _CENTS
        invoice = _id(charge.get("invoice"))
        await self.tell_ar(f"stripe:refund:{charge['id']}:{amount}", None,
                           f"Stripe charge {charge['id']} refunded {amount:.2f} "
                           f"{str(charge.get('currency', '')).upper()}"
                           + (f" (invoice {invoice})" if invoice else "")
                           + "; the payment stays recorded here")

    async def credit_note(self, note: dict[str, Any]) -> None:
        """Store the credit note, allocated to its invoice (stored first if need be)."""
        if str(note["currency"]).upper() in _ZERO_DECIMAL:
            raise Unusable(f"currency {note['currency']!r} has no cents")
        body: dict[str, Any] = {
            "external_id": note["id"], "credit_note_number": note.get("number") or note["id"],
            "account_id": await self.account_of(note["customer"]),
            "issue_date": self._date(note.get("effective_at") or note["created"]).isoformat(),
            "currency": str(note["currency"]).upper(),
            "amount": str(Decimal(note["total"]) / _CENTS),
            "reason": str(note.get("memo") or (note.get("reason") or "").replace("_", " ")),
        }
        if invoice := _id(note.get("invoice")):
            body["invoice_number"] = await self._number_of(invoice)
        lines = [_line(line) for line in (note.get("lines") or {}).get("data", [])]
        drafts = tuple(LineDraft(ln["description"], Decimal(ln["quantity"]),
                                 Decimal(ln["unit_price"]), Decimal(ln["tax_rate"]))
                       for ln in lines)
        if lines and compute_totals(drafts).total == Decimal(body["amount"]):
            body["lines"] = lines  # else Stripe's total stands alone, untaxed as one line
        await self._store("credit-notes", CreditNoteIn, body)

    async def _number_of(self, invoice_id: str) -> str:
        """Our number of a Stripe invoice, storing it first if it is not here yet."""
        stored = await Invoice.get_or_none(source=Source.STRIPE, external_id=invoice_id)
        if stored is not None:
            return stored.number
        number = await self.invoice(await self.api.fetch("invoices", invoice_id))
        if number is None:
            raise Unusable(f"its invoice {invoice_id} is still a draft")
        return number

    async def _ar_invoice(self, invoice: dict[str, Any], what: str, summary: str) -> None:
        number = await self.invoice(invoice)
        account = await Account.get_or_none(account_id=await self.account_of(
            invoice["customer"]))
        await self.tell_ar(f"stripe:{what}:{invoice['id']}", account.id if account else None,
                           f"Stripe invoice {number or invoice['id']}: {summary}")

    async def tell_ar(self, key: str, account_id: int | None, summary: str) -> None:
        await escalate(EscalationKind.BILLING, key, at=self.clock.now(),
                       account_id=account_id, summary=summary)

    # ---- the writer -----------------------------------------------------------------------

    async def _store(self, kind: str, model: type[BaseModel], body: dict[str, Any]) -> None:
        try:
            item = model.model_validate(body)
        except ValidationError as exc:
            raise Unusable("; ".join(str(e["msg"]) for e in exc.errors())) from None
        now = self.clock.now()
        ctx = Context(now.astimezone(self.timezone).date(), now, self.on_issued, "stripe",
                      source=Source.STRIPE, on_credited=self.on_credited)
        try:
            await ingest(kind, [item], False, ctx)
        except Invalid as exc:
            raise Unusable("; ".join(p.message for p in exc.problems)) from None

    def _date(self, timestamp: int) -> date:
        return datetime.fromtimestamp(int(timestamp), UTC).astimezone(self.timezone).date()


def _id(value: Any) -> str | None:
    """A Stripe reference, expanded (a dict) or not (its id)."""
    if isinstance(value, dict):
        return str(value["id"])
    return str(value) if value else None


def _line(line: dict[str, Any]) -> dict[str, str]:
    """A Stripe line (amount before tax, in cents) -> our line; the tax rate is what Stripe
    charged on it. A unit price that does not divide evenly becomes one unit of the whole
    amount, so the line's amount stays Stripe's to the cent."""
    amount = Decimal(line["amount"]) / _CENTS
    quantity = Decimal(line.get("quantity") or 1)
    description = str(line.get("description") or "Stripe invoice line")
    unit = amount / quantity
    if quantity <= 0 or unit != unit.quantize(_Q4):
        description, quantity, unit = f"{description} (× {quantity})", Decimal(1), amount
    taxes = line.get("tax_amounts") or line.get("taxes") or []
    tax = sum((Decimal(t["amount"]) for t in taxes), Decimal(0)) / _CENTS
    rate = (tax / amount * 100).quantize(_Q3) if amount else Decimal(0)
    return {"description": description, "quantity": str(quantity.normalize()),
            "unit_price": str(unit), "tax_rate": str(rate)}


_HANDLERS: dict[str, Callable[[StripeLedger, dict[str, Any]], Awaitable[Any]]] = {
    "customer.created": StripeLedger.customer,
    "customer.updated": StripeLedger.customer,
    "invoice.finalized": StripeLedger.invoice,
    "invoice.updated": StripeLedger.invoice,
    "invoice.voided": StripeLedger.invoice,
    "invoice.paid": StripeLedger.paid,
    "invoice.payment_failed": StripeLedger.payment_failed,
    "invoice.marked_uncollectible": StripeLedger.uncollectible,
    "charge.refunded": StripeLedger.refunded,
    "credit_note.created": StripeLedger.credit_note,
}
HANDLED = tuple(_HANDLERS)
