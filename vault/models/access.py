"""Sessions on the contact's account page (vault.sessions)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from vault.models.ledger import Contact


class AccountSession(Model):
    """One browser's session on the account page, opened by one account link.

    `id` is the SHA-256 of the secret in the cookie, so a copy of this table opens no
    session. `grant_id` is unique: an account link starts one session only.
    """

    id = fields.CharField(max_length=64, primary_key=True)
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name="account_sessions", on_delete=fields.CASCADE
    )
    contact_id: int
    grant_id = fields.CharField(max_length=32, unique=True)
    csrf = fields.CharField(max_length=64)  # the token every form of this session carries
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)  # signed out, or ended by the service
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=500, default="")

    class Meta:
        table = "account_session"
