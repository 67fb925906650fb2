"""Chat linking that cannot be ground down: a failure budget per contact (chat_link_budget),
the chat account on each failure (chat_link_failure.chat_address), and two new kinds:
escalation link_limited and outbox link_linked.

The kinds change only the enum's member list (the column description): AlterEnumField
from 0004 skips the table rebuild on SQLite, whose drop would cascade to digest items.
"""

import importlib

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from vault.vocabulary.escalations import EscalationKind
from vault.vocabulary.outbox import OutboxKind

AlterEnumField = importlib.import_module("vault.migrations.0003_vocabulary").AlterEnumField


class Migration(migrations.Migration):
    dependencies = [('vault', '0009_repeated_header')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChatLinkBudget',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contact', fields.OneToOneField('vault.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('failures', fields.IntField(default=0)),
                ('exhausted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'chat_link_budget', 'app': 'vault', 'pk_attr': 'id', 'table_description': 'Every wrong code ever typed for a contact (NIST SP 800-63B 5.2.2: at most 100).'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='ChatLinkCode',
            options={'table': 'chat_link_code', 'app': 'vault', 'indexes': [Index(fields=['platform', 'team_id', 'user_id', 'closed']), Index(fields=['contact_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "An 8-digit code emailed to a contact's address on file, good only for the chat that"},
        ),
        ops.AlterModelOptions(
            name='ChatLinkFailure',
            options={'table': 'chat_link_failure', 'app': 'vault', 'indexes': [Index(fields=['contact_id', 'at'])], 'pk_attr': 'id', 'table_description': 'One wrong code typed for a contact, and by which chat account: counted per contact'},
        ),
        ops.AddField(
            model_name='ChatLinkFailure',
            name='chat_address',
            field=fields.CharField(default='', db_index=True, max_length=128),
        ),
        AlterEnumField(
            model_name='Escalation',
            name='kind',
            field=fields.CharEnumField(description='UNKNOWN_SENDER: unknown_sender\nUNAUTHENTICATED: unauthenticated\nINACTIVE_CONTACT: inactive_contact\nMALFORMED_SENDER: malformed_sender\nUNLINKED: unlinked\nWRONG_WORKSPACE: wrong_workspace\nDEAD_DELIVERY: dead_delivery\nBOUNCE: bounce\nDISPUTE: dispute\nPERSON: person\nUNPROCESSABLE: unprocessable\nUNCLEAR: unclear\nOVERDUE_QUESTION: overdue_question\nLINK_LOCKED: link_locked\nLINK_LIMITED: link_limited\nE_INVOICE: e_invoice', enum_type=EscalationKind, max_length=64),
        ),
        AlterEnumField(
            model_name='OutboxMessage',
            name='kind',
            field=fields.CharEnumField(description='REPLY: reply\nNOTICE: notice\nALERT: alert\nDIGEST: digest\nTEST: test\nLINK_CODE: link_code\nLINK_LOCKED: link_locked\nLINK_LINKED: link_linked', enum_type=OutboxKind, max_length=32),
        ),
    ]
