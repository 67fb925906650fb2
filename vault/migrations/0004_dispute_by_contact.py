from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('vault', '0003_vocabulary')]

    initial = False

    operations = [
        ops.AddField(
            model_name='InvoiceEvent',
            name='by_contact_id',
            field=fields.IntField(null=True),
        ),
    ]
