"""invoice_event.happened_on: the day what an event tells happened, read by the alert
window (notifier.alerts.is_news). A new nullable column: ALTER TABLE ADD COLUMN, no
rebuild; rows from before it read as "happened when recorded"."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('vault', '0004_e_invoice')]

    initial = False

    operations = [
        ops.AddField(
            model_name='InvoiceEvent',
            name='happened_on',
            field=fields.DateField(null=True),
        ),
    ]
