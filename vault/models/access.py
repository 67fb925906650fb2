"""Sessions on the contact's account page (vault.sessions), the step-up codes they ask
for (vault.stepup) and the watch on how a contact's access is used (vault.access_watch)."""

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
    stepped_up_at = fields.DatetimeField(null=True)  # when this session typed a right code
    # The network (/24, /48) of the session's latest request and when it was first seen
    # there: another network within access.watch_networks_within is watched.
    network = fields.CharField(max_length=64, default="", db_default="")
    network_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account_session"


class StepUpCode(Model):
    """A 6-digit code mailed to the contact for one page session (vault.codes rules):
    stored as an HMAC bound to that session, 10 minutes, 5 tries."""

    id = fields.IntField(primary_key=True)
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name=False, on_delete=fields.CASCADE
    )
    contact_id: int
    session_id = fields.CharField(max_length=64, db_index=True)
    code_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    tries = fields.IntField(default=0)  # every try counts, the right one too
    closed = fields.BooleanField(default=False)

    class Meta:
        table = "step_up_code"


class StepUpFailure(Model):
    """One wrong (or refused) step-up code for a contact: the lock and the watch count
    them per hour and per day."""

    id = fields.IntField(primary_key=True)
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name=False, on_delete=fields.CASCADE
    )
    contact_id: int
    at = fields.DatetimeField()

    class Meta:
        table = "step_up_failure"
        indexes = (("contact_id", "at"),)


class AccessWatch(Model):
    """A contact whose access looked unusual: one AR item, and step-up required for
    them until AR clears it or access.watch_quiet passes after `last_hit_at`."""

    id = fields.IntField(primary_key=True)
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "vault.Contact", related_name=False, on_delete=fields.CASCADE
    )
    contact_id: int
    raised_at = fields.DatetimeField()
    last_hit_at = fields.DatetimeField()
    reason = fields.CharField(max_length=200)  # the first hit's rule
    hits = fields.IntField(default=1)
    cleared_at = fields.DatetimeField(null=True)
    # Audit rows up to here (the audit trail's clock) were counted by this watch: a
    # later volume check counts only what came after.
    counted_until = fields.DatetimeField(null=True)

    class Meta:
        table = "access_watch"
        indexes = (("contact_id", "cleared_at"),)
