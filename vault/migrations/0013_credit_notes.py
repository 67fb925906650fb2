"""Credit notes (and their lines), each invoice's amount credited by them, and the event
kind credit_note.issued. The kind's AlterField only changes the enum's description: it is
skipped on SQLite, whose rebuild of invoice_event would cascade (see 0003_vocabulary)."""

import importlib

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from vault.vocabulary.events import EventKind
from vault.vocabulary.sources import Source

AlterEnumField = importlib.import_module("vault.migrations.0003_vocabulary").AlterEnumField

class Migration(migrations.Migration):
    dependencies = [('vault', '0012_stripe')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CreditNote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('vault.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='credit_notes', on_delete=OnDelete.RESTRICT)),
                ('number', fields.CharField(unique=True, max_length=64)),
                ('invoice', fields.ForeignKeyField('vault.Invoice', source_field='invoice_id', null=True, db_constraint=True, to_field='id', related_name='credit_notes', on_delete=OnDelete.RESTRICT)),
                ('issue_date', fields.DateField()),
                ('currency', fields.CharField(max_length=3)),
                ('subtotal', fields.DecimalField(max_digits=18, decimal_places=2)),
                ('tax_total', fields.DecimalField(max_digits=18, decimal_places=2)),
                ('amount', fields.DecimalField(max_digits=18, decimal_places=2)),
                ('reason', fields.TextField(default='', unique=False)),
                ('content_hash', fields.CharField(max_length=64)),
                ('source', fields.CharEnumField(default=Source.CSV, description='CSV: csv\nAPI: api\nSTRIPE: stripe\nFEED: feed', enum_type=Source, max_length=16)),
                ('external_id', fields.CharField(null=True, max_length=200)),
                ('document', fields.ForeignKeyField('vault.Document', source_field='document_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'credit_note', 'app': 'vault', 'unique_together': (('source', 'external_id'),), 'indexes': [Index(fields=['account_id', 'issue_date']), Index(fields=['account_id', 'document_id'])], 'pk_attr': 'id', 'table_description': 'A credit note: money the seller owes back to the account, issued once with its own'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditNoteLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('credit_note', fields.ForeignKeyField('vault.CreditNote', source_field='credit_note_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('description', fields.TextField(unique=False)),
                ('quantity', fields.DecimalField(max_digits=18, decimal_places=4)),
                ('unit_price', fields.DecimalField(max_digits=18, decimal_places=4)),
                ('tax_rate', fields.DecimalField(default=0, max_digits=7, decimal_places=3)),
                ('amount', fields.DecimalField(max_digits=18, decimal_places=2)),
            ],
            options={'table': 'credit_note_line', 'app': 'vault', 'unique_together': (('credit_note', 'position'),), 'pk_attr': 'id', 'table_description': 'What a credit note credits, as invoice lines do (net amount, tax rate).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invoice',
            name='amount_credited',
            field=fields.DecimalField(default=0, db_default=0, max_digits=18, decimal_places=2),
        ),
        AlterEnumField(
            model_name='InvoiceEvent',
            name='kind',
            field=fields.CharEnumField(description='ISSUED: invoice.issued\nSTATUS_CHANGED: invoice.status_changed\nPAYMENT_RECEIVED: payment.received\nDUE_SOON: invoice.due_soon\nCREDIT_NOTE_ISSUED: credit_note.issued', enum_type=EventKind, max_length=32),
        ),
    ]
