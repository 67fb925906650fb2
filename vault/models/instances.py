"""Many `serve` instances on one database: the leases that say which one does what.

See vault.leases: a lease is held by one instance until `expires_at`, renewed by an atomic
UPDATE while its holder lives, and taken over by another once it has expired.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Lease(Model):
    """Who holds each lease (vault.leases), and until when.

    `instance:<name>` says an instance lives; `slack-socket` and `telegram-polling` say
    which instance receives those."""

    name = fields.CharField(max_length=100, primary_key=True)
    holder = fields.CharField(max_length=100)
    expires_at = fields.DatetimeField()
    taken_at = fields.DatetimeField()  # when this holder took it (renewals keep it)

    class Meta:
        table = "lease"
