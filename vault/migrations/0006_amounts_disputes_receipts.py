from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('vault', '0005_alert_window')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Receipt',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('vault.Account', source_field='account_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('payment', fields.ForeignKeyField('vault.Payment', source_field='payment_id', unique=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('document', fields.ForeignKeyField('vault.Document', source_field='document_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'receipt', 'app': 'vault', 'indexes': [Index(fields=['account_id', 'document_id'])], 'pk_attr': 'id', 'table_description': 'The receipt of one payment: a PDF issued after the payment was committed, offered'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='InvoiceEvent',
            name='by_contact_id',
            field=fields.IntField(null=True),
        ),
    ]
