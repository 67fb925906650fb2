"""Credit note documents: a committed credit note frozen into the invoice snapshot
(vault.pdf, credit_note=True) and rendered once, as a Factur-X PDF/A-3 of type 381 when
e-invoicing is on (vault.einvoice), like an invoice. Storing them is
vault.ingest.credit_notes; what they do to amounts is vault.amounts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from vault.clock import Clock
from vault.config import SellerConfig
from vault.documents import DocumentStore
from vault.escalations import escalate
from vault.models import Account, CreditNote, CreditNoteLine, Document, Invoice
from vault.pdf import (
    EInvoiceRejected,
    InvoiceSnapshot,
    LineSnapshot,
    Party,
    Renderer,
    babel_locale,
)
from vault.vocabulary import EscalationKind

log = logging.getLogger("invoicebot.credit_notes")


async def snapshot(note: CreditNote, seller: SellerConfig) -> InvoiceSnapshot:
    """Freeze a credit note with its account, lines and credited invoice."""
    account = await Account.get(id=note.account_id)
    lines = await CreditNoteLine.filter(credit_note_id=note.id).order_by("position")
    invoice = None if note.invoice_id is None else await Invoice.get(id=note.invoice_id)
    return InvoiceSnapshot(
        seller=Party(seller.name, seller.address, seller.tax_id),
        buyer=Party(account.name, account.address, account.tax_id),
        account_id=account.account_id, number=note.number,
        po_number=invoice.po_number if invoice else "", entity=invoice.entity if invoice else "",
        issue_date=note.issue_date, due_date=note.issue_date, currency=note.currency,
        locale=babel_locale(account.locale), payment_terms="", status="",
        lines=tuple(LineSnapshot(ln.description, ln.quantity, ln.unit_price, ln.tax_rate,
                                 ln.amount) for ln in lines),
        subtotal=note.subtotal, tax_total=note.tax_total, total=note.amount,
        e_invoicing=seller.e_invoicing, credit_note=True,
        credits=invoice.number if invoice else "",
        credits_issued=invoice.issue_date if invoice else None, reason=note.reason,
        also_english=seller.documents_also_english,
    )


async def issue_credit_note_pdf(note: CreditNote, renderer: Renderer, store: DocumentStore,
                                seller: SellerConfig, *, clock: Clock) -> Document:
    """Render a committed credit note, store it and point note.document at it. As for an
    invoice, a credit note whose e-invoice cannot be made is issued as the plain PDF and
    AR is told once (vault.documents.issue_invoice_pdf says why)."""
    try:
        pdf = await renderer.render(await snapshot(note, seller))
    except EInvoiceRejected as rejected:
        pdf = rejected.pdf
        log.warning("credit note %s issued without its e-invoice: %s", note.number,
                    rejected.reason)
        await escalate(EscalationKind.E_INVOICE, f"e_invoice:credit_note:{note.number}",
                       at=clock.now(), account_id=note.account_id, summary=rejected.reason)
    document = await store.put(pdf)
    note.document = document
    await note.save(update_fields=["document_id"])
    return document


def credit_note_issuer(renderer: Renderer, store: DocumentStore, seller: SellerConfig,
                       clock: Clock) -> Callable[[list[int]], Awaitable[None]]:
    """`issue(ids)`: render and store the PDFs of these committed credit notes."""

    async def issue(note_ids: list[int]) -> None:
        notes = await CreditNote.filter(id__in=note_ids)
        await asyncio.gather(*(issue_credit_note_pdf(n, renderer, store, seller, clock=clock)
                               for n in notes))

    return issue


async def any_without_pdf() -> bool:
    """One indexed query: whether render_missing has anything to do."""
    return bool(await CreditNote.filter(document_id=None).exists())


async def render_missing(renderer: Renderer, store: DocumentStore, seller: SellerConfig, *,
                         clock: Clock) -> int:
    """Issue the PDF of every credit note that has none (a render that failed, or a
    process stopped between the commit and the render); how many were rendered. One that
    fails is logged and left for the next sweep (as in vault.render_queue)."""
    rendered = 0
    for note in await CreditNote.filter(document_id=None).order_by("id"):
        try:
            await issue_credit_note_pdf(note, renderer, store, seller, clock=clock)
            rendered += 1
        except Exception as exc:  # the next sweep tries again; one bad note stops none
            log.error("credit note %s: PDF still missing, render failed: %s: %.200s",
                      note.number, type(exc).__name__, exc)
    return rendered
