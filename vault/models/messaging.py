"""Who fetched what and what came and went: download grants, the audit trail, inbound
mail, escalations for AR, and the outbox every outgoing message waits in."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from vault.models.ledger import Contact
from vault.vocabulary import Channel, EscalationKind, InboundState, OutboxKind, OutboxState


class Grant(Model):
    """Permission for one contact to fetch some documents until expires_at.

    The signed token in a link only names this row; the row is re-checked on every use.
    """

    id = fields.CharField(max_length=32, primary_key=True)  # random, unguessable
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name="grants", on_delete=fields.CASCADE
    )
    contact_id: int
    document_ids: fields.Field[list[int]] = fields.JSONField()
    label = fields.CharField(max_length=200, default="")  # e.g. the invoice number
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked = fields.BooleanField(default=False)

    class Meta:
        table = "download_grant"


class AuditEvent(Model):
    """Who did what to which document. Action names are dotted: vault.document.download."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    action = fields.CharField(max_length=100)
    account_id = fields.IntField(null=True)
    contact_id = fields.IntField(null=True)
    document_id = fields.IntField(null=True)
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=500, default="")
    data: fields.Field[dict[str, object]] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_event"
        # contact_id, action, at: the access watch counts one contact's downloads or page
        # views of the last day on every download and page view (vault.access_watch).
        indexes = (("account_id", "at"), ("contact_id", "action", "at"))


class InboundMessage(Model):
    """A received email, stored before we answer 250 and processed after."""

    id = fields.IntField(primary_key=True)
    message_key = fields.CharField(max_length=255, unique=True)  # Message-ID or content hash
    raw_message = fields.BinaryField()
    peer = fields.CharField(max_length=64)
    mail_from = fields.CharField(max_length=320, default="")
    rcpt_tos: fields.Field[list[str]] = fields.JSONField()
    received_at = fields.DatetimeField()
    state = fields.CharEnumField(InboundState, max_length=16, default=InboundState.RECEIVED)
    outcome = fields.CharField(max_length=64, default="")
    attempts = fields.IntField(default=0)
    processed_at = fields.DatetimeField(null=True)
    # The instance processing it (vault.leases: its instance lease says it lives); "" on
    # SQLite, where one instance runs.
    claimed_by = fields.CharField(max_length=100, default="", db_default="")

    class Meta:
        table = "inbound_message"
        indexes = (("state", "id"),)


class Escalation(Model):
    """Something the bot could not or should not handle alone, for the AR digest."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField()
    kind = fields.CharEnumField(EscalationKind, max_length=64)
    account_id = fields.IntField(null=True)
    contact_id = fields.IntField(null=True)
    address = fields.CharField(max_length=320, default="")
    summary = fields.TextField(default="")  # never message content of unverified senders
    source_key = fields.CharField(max_length=255, unique=True)  # idempotent per cause
    resolved = fields.BooleanField(default=False)

    class Meta:
        table = "escalation"


class OutboxMessage(Model):
    """An outgoing message with a delivery state machine (see notifier.outbox)."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=255, unique=True)  # idempotency: one per cause
    channel = fields.CharEnumField(Channel, max_length=16, default=Channel.EMAIL)
    kind = fields.CharEnumField(OutboxKind, max_length=32)
    recipient = fields.CharField(max_length=320)
    # The contact it is for (None: AR, or a neutral notice to nobody on file).
    contact: fields.ForeignKeyNullableRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    contact_id: int | None
    message_id = fields.CharField(max_length=255)  # stable across retries
    payload = fields.BinaryField()  # the serialized message
    state = fields.CharEnumField(OutboxState, max_length=16, default=OutboxState.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)
    # The instance whose worker holds it (vault.leases): when that instance dies its rows
    # are taken over as soon as its instance lease expires, not at lease_until.
    claimed_by = fields.CharField(max_length=100, default="", db_default="")
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    # A reply's request, when it was received: sent_at - this is the time to retrieval
    # (vault.metrics, vault.report). None for everything that answers no request.
    request_received_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        # message_id: a bounce or a reply names one of ours (bot.bounces, bot.conversation).
        indexes = (("state", "next_attempt_at"), ("recipient", "kind", "created_at"),
                   ("message_id",))
