"""Sessions on the contact's account page (/a/{token}, /account/...).

Chained after 0012 for now: 0013_credit_notes is written in parallel; at merge this
migration's dependency becomes 0013_credit_notes."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('vault', '0013_credit_notes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AccountSession',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('contact', fields.ForeignKeyField('vault.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name='account_sessions', on_delete=OnDelete.CASCADE)),
                ('grant_id', fields.CharField(unique=True, max_length=32)),
                ('csrf', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ip', fields.CharField(default='', max_length=64)),
                ('user_agent', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'account_session', 'app': 'vault', 'pk_attr': 'id', 'table_description': "One browser's session on the account page, opened by one account link."},
            bases=['Model'],
        ),
    ]
