"""Step-up and access watching (issue 13): an account's step_up, a session's step-up
and network, step-up codes and failures, access watches; the escalation kind
access_pattern (only the enum's description changes: AlterEnumField, skipped on SQLite)."""

import importlib

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from vault.vocabulary.escalations import EscalationKind

AlterEnumField = importlib.import_module("vault.migrations.0003_vocabulary").AlterEnumField

class Migration(migrations.Migration):
    dependencies = [('vault', '0015_observability')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AccessWatch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contact', fields.ForeignKeyField('vault.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_hit_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(max_length=200)),
                ('hits', fields.IntField(default=1)),
                ('cleared_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('counted_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'access_watch', 'app': 'vault', 'indexes': [Index(fields=['contact_id', 'cleared_at'])], 'pk_attr': 'id', 'table_description': 'A contact whose access looked unusual: one AR item, and step-up required for'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StepUpCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contact', fields.ForeignKeyField('vault.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('session_id', fields.CharField(db_index=True, max_length=64)),
                ('code_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('tries', fields.IntField(default=0)),
                ('closed', fields.BooleanField(default=False)),
            ],
            options={'table': 'step_up_code', 'app': 'vault', 'pk_attr': 'id', 'table_description': 'A 6-digit code mailed to the contact for one page session (vault.codes rules):'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StepUpFailure',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contact', fields.ForeignKeyField('vault.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'step_up_failure', 'app': 'vault', 'indexes': [Index(fields=['contact_id', 'at'])], 'pk_attr': 'id', 'table_description': 'One wrong (or refused) step-up code for a contact: the lock and the watch count'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Account',
            name='step_up',
            field=fields.CharField(default='', db_default='', max_length=16),
        ),
        ops.AddField(
            model_name='AccountSession',
            name='network',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='AccountSession',
            name='network_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='AccountSession',
            name='stepped_up_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        AlterEnumField(
            model_name='Escalation',
            name='kind',
            field=fields.CharEnumField(description='UNKNOWN_SENDER: unknown_sender\nUNAUTHENTICATED: unauthenticated\nINACTIVE_CONTACT: inactive_contact\nMALFORMED_SENDER: malformed_sender\nUNLINKED: unlinked\nWRONG_WORKSPACE: wrong_workspace\nDEAD_DELIVERY: dead_delivery\nBOUNCE: bounce\nDISPUTE: dispute\nPERSON: person\nUNPROCESSABLE: unprocessable\nUNCLEAR: unclear\nOVERDUE_QUESTION: overdue_question\nLINK_LOCKED: link_locked\nLINK_LIMITED: link_limited\nE_INVOICE: e_invoice\nREPEATED_HEADER: repeated_header\nBILLING: billing\nACCESS_PATTERN: access_pattern', enum_type=EscalationKind, max_length=64),
        ),
    ]
