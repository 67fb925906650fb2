"""Payment receipts: one PDF per payment, the companion of the invoice as issued.

The invoice PDF is the document as issued and never changes; what was paid since is told
by a receipt per payment, so a paid invoice's download does not contradict its status.
As for invoices and statements, the snapshot (plain values, from committed rows) is
separate from rendering; the PDF is stored in the document store and a Receipt row ties
it to the payment and account (which lets a signed link to it pass the scope check).

A receipt is issued the first time it is offered (AccountScope.receipts finds those
missing), always after its payment was committed; the same payment gets one receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from html import escape

from vault import amounts
from vault.config import SellerConfig
from vault.documents import DocumentStore
from vault.formats import Formats
from vault.invoices import AccountScope
from vault.models import Document, Invoice, Payment, Receipt
from vault.pdf import Party, babel_locale
from vault.pdf_html import template
from vault.statements import HtmlRenderer


@dataclass(frozen=True)
class ReceiptSnapshot:
    """Everything printed on a receipt."""

    seller: Party
    buyer: Party
    number: str  # the invoice's
    issue_date: date
    currency: str
    locale: str
    total: Decimal
    paid_on: date
    amount: Decimal
    reference: str
    method: str
    paid_to_date: Decimal  # this payment included

    @property
    def still_due(self) -> Decimal:
        return amounts.standing(self.total, self.paid_to_date, self.paid_on, "",
                                self.paid_on).due

    @property
    def label(self) -> str:
        return f"receipt-{self.number}-{self.paid_on.isoformat()}.pdf"


def snapshot(scope: AccountScope, seller: SellerConfig, invoice: Invoice,
             payments: list[Payment], payment: Payment) -> ReceiptSnapshot:
    """`payment` of `invoice`, whose payments (oldest first) are `payments`."""
    upto = payments[: payments.index(payment) + 1]
    account = scope.account
    return ReceiptSnapshot(
        seller=Party(seller.name, seller.address, seller.tax_id),
        buyer=Party(account.name, account.address, account.tax_id),
        number=invoice.number, issue_date=invoice.issue_date, currency=invoice.currency,
        locale=babel_locale(account.locale), total=invoice.total, paid_on=payment.paid_on,
        amount=payment.amount, reference=payment.reference, method=payment.method,
        paid_to_date=sum((p.amount for p in upto), Decimal(0)),
    )



def receipt_html(s: ReceiptSnapshot) -> str:
    f = Formats.of(s.locale, currency=s.currency)
    values = {
        "lang": s.locale.split("_")[0],
        "title": f"Receipt for invoice {s.number}",
        "description": f"Payment of {f.money(s.amount)} on {f.day(s.paid_on)} for invoice "
                       f"{s.number}, from {s.buyer.name} to {s.seller.name}",
        "created": s.paid_on.isoformat(),
        "seller_name": s.seller.name, "seller_address": s.seller.address,
        "buyer_name": s.buyer.name, "buyer_address": s.buyer.address,
        "number": s.number, "issue_date": f.day(s.issue_date), "paid_on": f.day(s.paid_on),
        "currency": s.currency, "total": f.money(s.total), "amount": f.money(s.amount),
        "paid_to_date": f.money(s.paid_to_date), "still_due": f.money(s.still_due),
    }
    facts = [("Reference", s.reference), ("Method", s.method)]
    rows = "".join(f"<tr><th>{name}</th><td>{escape(value)}</td></tr>"
                   for name, value in facts if value)  # never invented: only what we have
    escaped = {k: escape(v) for k, v in values.items()}
    return template("receipt.html").substitute(escaped | {"facts": rows})


async def receipts(scope: AccountScope, invoice: Invoice, renderer: HtmlRenderer,
                   store: DocumentStore, seller: SellerConfig, now: datetime
                   ) -> list[tuple[Payment, Document]]:
    """The invoice's payments with their receipts, oldest first; missing ones are issued
    now (rendered, stored, registered once)."""
    payments = await scope.payments(invoice)
    found = await scope.receipts(payments)
    issued = []
    for payment in payments:
        document = found.get(payment.id)
        if document is None:
            pdf = await renderer.render_html(receipt_html(
                snapshot(scope, seller, invoice, payments, payment)))
            document = await store.put(pdf)
            await Receipt.get_or_create(payment_id=payment.id, defaults={
                "account_id": scope.account.id, "document_id": document.id,
                "created_at": now})
        issued.append((payment, document))
    return issued
