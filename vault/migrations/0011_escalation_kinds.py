"""The escalation kinds of two parallel changes together (repeated_header, link_limited):
only the enum's member list (the column description) changes. Skipped on SQLite, where
AlterField would rebuild the escalation table (see 0004_e_invoice)."""

import importlib

from tortoise import fields, migrations

from vault.vocabulary.escalations import EscalationKind

AlterEnumField = importlib.import_module("vault.migrations.0003_vocabulary").AlterEnumField


class Migration(migrations.Migration):
    dependencies = [('vault', '0010_chat_budget')]

    initial = False

    operations = [
        AlterEnumField(
            model_name='Escalation',
            name='kind',
            field=fields.CharEnumField(description='UNKNOWN_SENDER: unknown_sender\nUNAUTHENTICATED: unauthenticated\nINACTIVE_CONTACT: inactive_contact\nMALFORMED_SENDER: malformed_sender\nUNLINKED: unlinked\nWRONG_WORKSPACE: wrong_workspace\nDEAD_DELIVERY: dead_delivery\nBOUNCE: bounce\nDISPUTE: dispute\nPERSON: person\nUNPROCESSABLE: unprocessable\nUNCLEAR: unclear\nOVERDUE_QUESTION: overdue_question\nLINK_LOCKED: link_locked\nLINK_LIMITED: link_limited\nE_INVOICE: e_invoice\nREPEATED_HEADER: repeated_header', enum_type=EscalationKind, max_length=64),
        ),
    ]
