"""Observability: each reply's outbox row keeps when its request was received, so the time
to retrieval (received -> accepted by the relay or chat API) is known from the row alone
(vault.metrics, vault.report). One nullable column is added; no table is rebuilt.

Chained after 0012 on the observability branch; 0013 and 0014 land in parallel and the
chain is re-linked at merge."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('vault', '0014_account_sessions')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxMessage',
            name='request_received_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
