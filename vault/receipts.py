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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from html import escape

from vault import amounts
from vault.config import SellerConfig
from vault.documents import DocumentStore
from vault.formats import Formats
from vault.invoices import AccountScope
from vault.models import CreditNote, Document, Invoice, Payment, Receipt
from vault.pdf import Party, babel_locale
from vault.pdf_html import template
from vault.statements import HtmlRenderer
from vault.words import Words, labels_html, paragraphs


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
    also_english: bool = False  # [seller] documents_also_english
    credited: Decimal = Decimal(0)  # by credit notes issued on or before the payment's day

    @property
    def still_due(self) -> Decimal:
        """As of the payment's day: what the invoice's status said then (vault.amounts)."""
        return amounts.standing(self.total, self.paid_to_date, self.paid_on, "",
                                self.paid_on, self.credited).due

    @property
    def label(self) -> str:
        return f"receipt-{self.number}-{self.paid_on.isoformat()}.pdf"


def snapshot(scope: AccountScope, seller: SellerConfig, invoice: Invoice,
             payments: list[Payment], payment: Payment,
             credit_notes: Sequence[CreditNote] = ()) -> ReceiptSnapshot:
    """`payment` of `invoice`, whose payments (oldest first) are `payments` and whose
    credit notes are `credit_notes` (those issued after the payment do not count: the
    receipt says what was still due on its day)."""
    upto = payments[: payments.index(payment) + 1]
    account = scope.account
    return ReceiptSnapshot(
        seller=Party(seller.name, seller.address, seller.tax_id),
        buyer=Party(account.name, account.address, account.tax_id),
        number=invoice.number, issue_date=invoice.issue_date, currency=invoice.currency,
        locale=babel_locale(account.locale), total=invoice.total, paid_on=payment.paid_on,
        amount=payment.amount, reference=payment.reference, method=payment.method,
        paid_to_date=sum((p.amount for p in upto), Decimal(0)),
        also_english=seller.documents_also_english,
        credited=sum((n.amount for n in credit_notes if n.issue_date <= payment.paid_on),
                     Decimal(0)),
    )



def receipt_html(s: ReceiptSnapshot) -> str:
    """The receipt in the buyer's language (vault.words); values escaped."""
    f = Formats.of(s.locale, currency=s.currency)
    w = Words.of(s.locale, s.also_english)
    values = {
        "lang": w.language,
        "title": w.alone._("Receipt for invoice %(number)s", number=s.number),
        "description": w.alone._("Payment of %(amount)s on %(day)s for invoice %(number)s, "
                                 "from %(buyer)s to %(seller)s", amount=f.money(s.amount),
                                 day=f.day(s.paid_on), number=s.number, buyer=s.buyer.name,
                                 seller=s.seller.name),
        "created": s.paid_on.isoformat(),
        "seller_name": s.seller.name, "seller_address": s.seller.address,
        "buyer_name": s.buyer.name, "buyer_address": s.buyer.address,
        "number": s.number, "issue_date": f.day(s.issue_date), "paid_on": f.day(s.paid_on),
        "total": f.money(s.total), "amount": f.money(s.amount),
        "paid_to_date": f.money(s.paid_to_date), "still_due": f.money(s.still_due),
    } | _labels(w)
    credited_label = w._("Credited to date")  # a call of its own: extraction skips f-strings
    credited = (f"<tr><th>{escape(credited_label)}</th>"
                f"<td>{escape(f.money(s.credited))}</td></tr>") if s.credited else ""
    facts = [(w._("Reference"), s.reference), (w._("Method"), s.method)]
    rows = "".join(f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>"
                   for name, value in facts if value)  # never invented: only what we have
    thanks = w.sentences._("Thank you for your payment. This receipt confirms the payment "
                           "above against invoice %(number)s; the invoice itself is "
                           "unchanged.", number=s.number)
    escaped = {k: escape(v) for k, v in values.items()}
    return labels_html(template("receipt.html").substitute(escaped | {
        "facts": rows, "credited_row": credited, "thanks": paragraphs(thanks),
        "page_footer": w.page_footer_css()}))


def _labels(w: Words) -> dict[str, str]:
    return {
        "label_receipt": w._("Payment receipt"),
        "label_invoice_number": w._("Invoice number"), "label_invoice_date": w._("Invoice date"),
        "label_paid_on": w._("Paid on"), "label_received_from": w._("Received from"),
        "label_invoice_total": w._("Invoice total"), "label_this_payment": w._("This payment"),
        "label_paid_to_date": w._("Paid to date"), "label_still_due": w._("Still due"),
    }


async def receipts(scope: AccountScope, invoice: Invoice, renderer: HtmlRenderer,
                   store: DocumentStore, seller: SellerConfig, now: datetime
                   ) -> list[tuple[Payment, Document]]:
    """The invoice's payments with their receipts, oldest first; missing ones are issued
    now (rendered, stored, registered once)."""
    payments = await scope.payments(invoice)
    found = await scope.receipts(payments)
    notes = await scope.credit_notes(invoice) if any(
        p.id not in found for p in payments) else []
    issued = []
    for payment in payments:
        document = found.get(payment.id)
        if document is None:
            pdf = await renderer.render_html(receipt_html(
                snapshot(scope, seller, invoice, payments, payment, notes)))
            document = await store.put(pdf)
            await Receipt.get_or_create(payment_id=payment.id, defaults={
                "account_id": scope.account.id, "document_id": document.id,
                "created_at": now})
        issued.append((payment, document))
    return issued
