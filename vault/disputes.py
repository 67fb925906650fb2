"""Disputes and requests for a person: recorded, escalated to AR, never decided by the bot.

open_dispute is the ONE place an invoice becomes disputed on a contact's word. Everything
it changes (the Dispute row, the invoice's status and its status-change event for the
notifier, the AR escalation, the audit row) happens in one transaction, so AR never
hears of a dispute that was not recorded.

The invoice's file_status is set to "disputed" too, so re-deriving the status after a
payments import keeps it disputed; the ledger's next changed invoice row decides again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from vault import audit, events
from vault.escalations import escalate
from vault.invoices import AccountScope
from vault.models import Dispute, Escalation, Invoice, InvoiceStatus
from vault.vocabulary import EscalationKind


@dataclass(frozen=True)
class DisputeOutcome:
    """The dispute recorded now, or why none was: already disputed, or void."""

    dispute: Dispute | None
    refused: str = ""  # "already_disputed", "void", "paid"
    since: datetime | None = None  # when the open dispute was raised


async def open_dispute(
    scope: AccountScope, invoice: Invoice, reason: str, now: datetime
) -> DisputeOutcome:
    """Mark the scope's invoice disputed, record who, when and why, and tell AR."""
    async with in_transaction():
        current = await scope.invoices().select_for_update().get(id=invoice.id)
        if current.status == InvoiceStatus.VOID:
            return DisputeOutcome(None, "void")
        if current.status == InvoiceStatus.PAID:
            # Nothing is owed, so "disputed" would take it out of every count: AR hears
            # of it instead (a credit note is theirs to decide).
            return DisputeOutcome(None, "paid")
        if current.status == InvoiceStatus.DISPUTED:
            earlier = await Dispute.filter(invoice_id=current.id, resolved_at=None).first()
            return DisputeOutcome(None, "already_disputed", earlier.at if earlier else None)
        dispute = await Dispute.create(
            account_id=scope.account.id, invoice_id=current.id, contact_id=scope.contact.id,
            at=now, reason=reason, previous_status=str(current.status),
        )
        await scope.invoices().filter(id=current.id).update(
            status=InvoiceStatus.DISPUTED, file_status=InvoiceStatus.DISPUTED
        )
        await events.status_changed(current, current.status, InvoiceStatus.DISPUTED, now,
                                    cause="dispute", by_contact_id=scope.contact.id)
        await escalate(
            EscalationKind.DISPUTE, f"dispute:{dispute.id}", at=now,
            account_id=scope.account.id, contact_id=scope.contact.id,
            address=scope.contact.email,
            summary=f"{current.number} disputed: {reason or '(no reason given)'}",
        )
        await audit.record("vault.invoice.disputed", account_id=scope.account.id,
                           contact_id=scope.contact.id, invoice=current.number,
                           dispute=dispute.id, previous_status=str(current.status))
    return DisputeOutcome(dispute)


async def ask_for_person(
    scope: AccountScope, conversation: str, source_key: str, now: datetime
) -> Escalation:
    """Hand the conversation to AR; asking again for the same message changes nothing."""
    # A verified contact's own words: AR needs them to call back.
    return await note_for_ar(scope, EscalationKind.PERSON, conversation, source_key, now)


async def note_for_ar(
    scope: AccountScope, kind: EscalationKind, summary: str, source_key: str, now: datetime
) -> Escalation:
    """An item for the AR digest about this contact; once per source_key. (A contact may
    paste a link: `escalate` keeps its token out of AR's mail.)"""
    return await escalate(kind, source_key, at=now, account_id=scope.account.id,
                          contact_id=scope.contact.id, address=scope.contact.email,
                          summary=summary)
