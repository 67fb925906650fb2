"""The ingestion API: API keys, the answers kept for Idempotency-Key, and where each invoice
and payment came from (source, and the source's own id, unique per source when set).

New tables and new columns with defaults only; on SQLite the unique (source, external_id)
pairs are CREATE UNIQUE INDEX, so no table is rebuilt (see 0003 on why that matters).
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint

from vault.vocabulary.api import ApiScope
from vault.vocabulary.sources import Source


class Migration(migrations.Migration):
    dependencies = [('vault', '0007_outbox_message_id_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('scope', fields.CharEnumField(description='INGEST: ingest\nREAD: read', enum_type=ApiScope, max_length=16)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('prefix', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'vault', 'pk_attr': 'id', 'table_description': 'A key an integration sends as `Authorization: Bearer`. Only its SHA-256 is stored:'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='IdempotentAnswer',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('api_key', fields.ForeignKeyField('vault.ApiKey', source_field='api_key_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=255)),
                ('request_hash', fields.CharField(max_length=64)),
                ('status', fields.IntField()),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_idempotent_answer', 'app': 'vault', 'unique_together': (('api_key', 'key'),), 'indexes': [Index(fields=['created_at'])], 'pk_attr': 'id', 'table_description': 'The answer given to one Idempotency-Key of one API key, replayed for 24 hours.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invoice',
            name='external_id',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Invoice',
            name='source',
            field=fields.CharEnumField(default=Source.CSV, db_default=Source.CSV, description='CSV: csv\nAPI: api\nSTRIPE: stripe\nFEED: feed', enum_type=Source, max_length=16),
        ),
        ops.AddConstraint(
            model_name='Invoice',
            constraint=UniqueConstraint(fields=('source', 'external_id'), name=None),
        ),
        ops.AddField(
            model_name='Payment',
            name='external_id',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Payment',
            name='source',
            field=fields.CharEnumField(default=Source.CSV, db_default=Source.CSV, description='CSV: csv\nAPI: api\nSTRIPE: stripe\nFEED: feed', enum_type=Source, max_length=16),
        ),
        ops.AddConstraint(
            model_name='Payment',
            constraint=UniqueConstraint(fields=('source', 'external_id'), name=None),
        ),
    ]
