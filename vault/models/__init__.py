"""The vault's tables, one module per concern; import them from here (`vault.models`).

Tortoise discovers the models of the app from this package's namespace.
"""

from vault.models.access import AccessWatch, AccountSession, StepUpCode, StepUpFailure
from vault.models.alerts import (
    AlertPreference,
    Digest,
    DigestItem,
    InvoiceEvent,
    Notification,
)
from vault.models.api import ApiKey, IdempotentAnswer, StripeCustomer, StripeEvent
from vault.models.chat import (
    ChatInbound,
    ChatLink,
    ChatLinkBudget,
    ChatLinkCode,
    ChatLinkFailure,
    ChatLinkLock,
    ChatLinkToken,
)
from vault.models.instances import Lease
from vault.models.ledger import (
    Account,
    Contact,
    CreditNote,
    CreditNoteLine,
    Dispute,
    Document,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    Receipt,
    Role,
    Statement,
)
from vault.models.messaging import (
    AuditEvent,
    Escalation,
    Grant,
    InboundMessage,
    OutboxMessage,
)

__all__ = [
    "AccessWatch",
    "Account",
    "AccountSession",
    "AlertPreference",
    "ApiKey",
    "AuditEvent",
    "ChatInbound",
    "ChatLink",
    "ChatLinkBudget",
    "ChatLinkCode",
    "ChatLinkFailure",
    "ChatLinkLock",
    "ChatLinkToken",
    "Contact",
    "CreditNote",
    "CreditNoteLine",
    "Digest",
    "DigestItem",
    "Dispute",
    "Document",
    "Escalation",
    "Grant",
    "IdempotentAnswer",
    "InboundMessage",
    "Invoice",
    "InvoiceEvent",
    "InvoiceLine",
    "InvoiceStatus",
    "Lease",
    "Notification",
    "OutboxMessage",
    "Payment",
    "Receipt",
    "Role",
    "Statement",
    "StepUpCode",
    "StepUpFailure",
    "StripeCustomer",
    "StripeEvent",
]
