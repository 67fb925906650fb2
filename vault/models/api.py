"""The ingestion API's own state: its keys, and the answers kept for Idempotency-Key."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from vault.vocabulary import ApiScope


class ApiKey(Model):
    """A key an integration sends as `Authorization: Bearer`. Only its SHA-256 is stored:
    the key itself is shown once, when created."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    scope = fields.CharEnumField(ApiScope, max_length=16)
    key_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)  # the key's first characters, to recognise it
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"


class IdempotentAnswer(Model):
    """The answer given to one Idempotency-Key of one API key, replayed for 24 hours."""

    id = fields.BigIntField(primary_key=True)
    api_key: fields.ForeignKeyRelation[ApiKey] = fields.ForeignKeyField(
        "vault.ApiKey", related_name=False, on_delete=fields.CASCADE
    )
    api_key_id: int
    key = fields.CharField(max_length=255)
    request_hash = fields.CharField(max_length=64)  # method, path and body
    status = fields.IntField()
    body = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "api_idempotent_answer"
        unique_together = (("api_key", "key"),)
        indexes = (("created_at",),)


class StripeEvent(Model):
    """A Stripe webhook event handled (or synced): a second delivery of the same id is
    answered 200 and changes nothing."""

    event_id = fields.CharField(max_length=255, primary_key=True)
    type = fields.CharField(max_length=64)
    received_at = fields.DatetimeField()

    class Meta:
        table = "stripe_event"


class StripeCustomer(Model):
    """Which of our accounts a Stripe customer is (stripe.account_id_from), so an invoice
    that names only the customer finds its account."""

    customer_id = fields.CharField(max_length=255, primary_key=True)
    account_id = fields.CharField(max_length=64)  # our external account_id

    class Meta:
        table = "stripe_customer"
