"""A new escalation kind, repeated_header (mail refused unread: a header twice).

Only the enum's member list (the column description) changes; the column keeps its type
and length. On SQLite that is nothing to do, and AlterField would rebuild the escalation
table, whose drop cascades to the digest items (see 0003_vocabulary): skipped there.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from vault.vocabulary.escalations import EscalationKind


def _on_sqlite(editor: Any) -> bool:
    return editor is not None and editor.client.capabilities.dialect == "sqlite"


class AlterEnumField(ops.AlterField):
    """The column keeps its type and length: on SQLite there is nothing to change."""

    async def database_forward(self, app_label: str, old_state: Any, new_state: Any,
                               state_editor: Any = None) -> None:
        if not _on_sqlite(state_editor):
            await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label: str, old_state: Any, new_state: Any,
                                state_editor: Any = None) -> None:
        if not _on_sqlite(state_editor):
            await super().database_backward(app_label, old_state, new_state, state_editor)


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
