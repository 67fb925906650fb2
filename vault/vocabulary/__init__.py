"""The shared words of invoicebot, one module each: what the database may hold in its kind
and state columns, and what every reader and writer spells.

Each is a StrEnum, so a member compares and serialises as its stored string. Models use
them as Tortoise CharEnumFields (a write of any other value fails); code names members,
never the strings. Labels people read (AR's "what happened", a status word) sit next to
the member, so adding a member without its label fails the vocabulary tests.

Owns nothing else and imports nothing from the rest of vault, bot or notifier.
"""

from vault.vocabulary.access import StepUp
from vault.vocabulary.alerts import Cadence, DigestState, NotificationState
from vault.vocabulary.api import ApiScope
from vault.vocabulary.channels import Channel
from vault.vocabulary.escalations import EscalationKind
from vault.vocabulary.events import AlertEvent, EventKind
from vault.vocabulary.inbound import InboundState
from vault.vocabulary.outbox import OutboxKind, OutboxState
from vault.vocabulary.outcomes import RequestOutcome
from vault.vocabulary.roles import Role
from vault.vocabulary.sources import Source
from vault.vocabulary.statuses import InvoiceStatus

__all__ = [
    "AlertEvent",
    "ApiScope",
    "Cadence",
    "Channel",
    "DigestState",
    "EscalationKind",
    "EventKind",
    "InboundState",
    "InvoiceStatus",
    "NotificationState",
    "OutboxKind",
    "OutboxState",
    "RequestOutcome",
    "Role",
    "Source",
    "StepUp",
]
