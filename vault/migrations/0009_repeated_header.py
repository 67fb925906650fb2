"""A new escalation kind, repeated_header (mail refused unread: a header twice).

Only the enum's member list (the column description) changes; the column keeps its type
and length. On SQLite that is nothing to do, and AlterField would rebuild the escalation
table, whose drop cascades to the digest items (see 0003_vocabulary): skipped there.
"""

import importlib

from tortoise import fields, migrations

from vault.vocabulary.escalations import EscalationKind

# One definition, in the migration that first needed it.
AlterEnumField = importlib.import_module("vault.migrations.0003_vocabulary").AlterEnumField


class Migration(migrations.Migration):
    dependencies = [('vault', '0008_ingest_api')]

    initial = False

    operations = [
        AlterEnumField(
            model_name='Escalation',
            name='kind',
            field=fields.CharEnumField(description='UNKNOWN_SENDER: unknown_sender\nUNAUTHENTICATED: unauthenticated\nINACTIVE_CONTACT: inactive_contact\nMALFORMED_SENDER: malformed_sender\nUNLINKED: unlinked\nWRONG_WORKSPACE: wrong_workspace\nDEAD_DELIVERY: dead_delivery\nBOUNCE: bounce\nDISPUTE: dispute\nPERSON: person\nUNPROCESSABLE: unprocessable\nUNCLEAR: unclear\nOVERDUE_QUESTION: overdue_question\nLINK_LOCKED: link_locked\nE_INVOICE: e_invoice\nREPEATED_HEADER: repeated_header', enum_type=EscalationKind, max_length=64),
        ),
    ]
