"""An index on outbox_message.message_id: every inbound email is checked for being a reply
to one of ours (bot.conversation), and bounces find their message the same way. Only an
index is added; no table is rebuilt."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('vault', '0006_amounts_disputes_receipts')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['message_id']),
        ),
    ]
