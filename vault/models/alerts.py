"""Alerts: invoice events (written in the transaction of the change), each contact's alert
preferences, notifications expanded from events, and digests. See notifier/."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from vault.models.ledger import Account, Contact, Invoice
from vault.models.messaging import Escalation
from vault.vocabulary import (
    Cadence,
    Channel,
    DigestState,
    EventKind,
    InvoiceStatus,
    NotificationState,
)


class InvoiceEvent(Model):
    """Something that happened to an invoice, written in the same transaction as the change
    (a transactional outbox): the notifier expands each into notifications, once."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    kind = fields.CharEnumField(EventKind, max_length=32)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "vault.Account", related_name=False, on_delete=fields.CASCADE
    )
    account_id: int
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "vault.Invoice", related_name="events", on_delete=fields.CASCADE
    )
    invoice_id: int
    # A status change's statuses; NULL on other events (a payment, an issue). NULL rather
    # than "": an enum column holds a status or nothing, and "" is no status.
    old_status = fields.CharEnumField(InvoiceStatus, max_length=16, null=True)
    new_status = fields.CharEnumField(InvoiceStatus, max_length=16, null=True)
    amount = fields.DecimalField(max_digits=18, decimal_places=2, null=True)  # a payment's
    # The seller's day on which what the event tells happened (an issue date, a payment's
    # paid_on, the day after a due date); NULL: when it was recorded (`at`). The alert
    # window reads it, so an old fact loaded today is history, not news.
    happened_on = fields.DateField(null=True)
    cause = fields.CharField(max_length=32, default="")  # import, payments, sweep, dispute
    # The contact whose own act it was (a dispute): they have their answer, not an alert.
    by_contact_id = fields.IntField(null=True)
    key = fields.CharField(max_length=255, unique=True, null=True)  # once-only events
    expanded = fields.BooleanField(default=False)

    class Meta:
        table = "invoice_event"
        indexes = (("expanded", "id"),)


class AlertPreference(Model):
    """A contact's alert settings, once changed (without a row: the tier's defaults).

    See notifier.preferences.
    """

    id = fields.IntField(primary_key=True)
    contact: fields.OneToOneRelation[Contact] = fields.OneToOneField(
        "vault.Contact", related_name="alert_preference", on_delete=fields.CASCADE
    )
    contact_id: int
    channels: fields.Field[list[str]] = fields.JSONField()
    events: fields.Field[list[str]] = fields.JSONField()
    cadence = fields.CharEnumField(Cadence, max_length=16)
    quiet_start = fields.CharField(max_length=5, default="")  # HH:MM local, "" = none
    quiet_end = fields.CharField(max_length=5, default="")
    stopped = fields.BooleanField(default=False)
    # Routes switched off after a permanent delivery failure, until set again.
    disabled: fields.Field[list[str]] = fields.JSONField(default=list)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "alert_preference"


class Digest(Model):
    """One digest per recipient and period: a second tick for the same period does nothing."""

    id = fields.IntField(primary_key=True)
    recipient = fields.CharField(max_length=100)  # contact:{id}:{channel} or ar
    period = fields.CharField(max_length=32)  # the local date or ISO week it covers
    covers_until = fields.DatetimeField()  # items before this moment
    items = fields.IntField(default=0)
    outbox_key = fields.CharField(max_length=255, default="")  # "" when empty: not sent
    state = fields.CharEnumField(DigestState, max_length=16, default=DigestState.ENQUEUED)
    created_at = fields.DatetimeField()

    class Meta:
        table = "digest"
        unique_together = (("recipient", "period"),)


class Notification(Model):
    """One event for one contact on one channel, key alert:{event}:{contact}:{channel}.

    waiting -> enqueued (an outbox row with the same key) | digested | cancelled;
    enqueued -> dead when its outbox row died (the route is then switched off).
    """

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=255, unique=True)
    event: fields.ForeignKeyRelation[InvoiceEvent] = fields.ForeignKeyField(
        "vault.InvoiceEvent", related_name=False, on_delete=fields.CASCADE
    )
    event_id: int
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name=False, on_delete=fields.CASCADE
    )
    contact_id: int
    channel = fields.CharEnumField(Channel, max_length=16)
    cadence = fields.CharEnumField(Cadence, max_length=16)
    state = fields.CharEnumField(NotificationState, max_length=16,
                                 default=NotificationState.WAITING)
    deliver_after = fields.DatetimeField()  # quiet hours push this to their end
    digest: fields.ForeignKeyNullableRelation[Digest] = fields.ForeignKeyField(
        "vault.Digest", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    digest_id: int | None
    created_at = fields.DatetimeField()

    class Meta:
        table = "notification"
        indexes = (("state", "cadence", "deliver_after"), ("contact_id", "state"))


class DigestItem(Model):
    """An escalation listed in an AR digest: each is listed in exactly one."""

    id = fields.IntField(primary_key=True)
    digest: fields.ForeignKeyRelation[Digest] = fields.ForeignKeyField(
        "vault.Digest", related_name=False, on_delete=fields.CASCADE
    )
    digest_id: int
    escalation: fields.OneToOneRelation[Escalation] = fields.OneToOneField(
        "vault.Escalation", related_name=False, on_delete=fields.CASCADE
    )
    escalation_id: int

    class Meta:
        table = "digest_item"
