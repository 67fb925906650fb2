"""Kind, state, status, channel and cadence columns hold only the vocabulary's values
(vault.vocabulary). The column types and lengths stay as they were, so existing rows are
kept as they are; the one data change: an event's old/new status was "" when it had none
and is now NULL (an enum column holds a member or nothing).

SQLite keeps no column types beyond "text" and no column descriptions, so there the enum
changes are nothing to do, and the migration does nothing (Tortoise would rebuild each
table, and dropping the old copy of a table runs its ON DELETE CASCADEs: an
invoice_event rebuild deleted every notification, an escalation rebuild every digest
item). Only dropping NOT NULL from the two status columns needs a rebuild of
invoice_event there; the notifications are kept aside across it and put back.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from vault.vocabulary.alerts import Cadence, DigestState, NotificationState
from vault.vocabulary.channels import Channel
from vault.vocabulary.escalations import EscalationKind
from vault.vocabulary.events import EventKind
from vault.vocabulary.inbound import InboundState
from vault.vocabulary.outbox import OutboxKind, OutboxState
from vault.vocabulary.statuses import InvoiceStatus


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


async def _keep_notifications(apps: Any, editor: Any) -> None:
    """Before invoice_event is rebuilt on SQLite: its notifications, set aside."""
    if _on_sqlite(editor):
        await editor.client.execute_query(
            "CREATE TEMP TABLE kept_notification AS SELECT * FROM notification")


async def _restore_notifications(apps: Any, editor: Any) -> None:
    """After the rebuild: the notifications the dropped table took with it, put back."""
    if _on_sqlite(editor):
        await editor.client.execute_query(
            "INSERT INTO notification SELECT * FROM kept_notification "
            "WHERE id NOT IN (SELECT id FROM notification)")
        await editor.client.execute_query("DROP TABLE kept_notification")


class Migration(migrations.Migration):
    dependencies = [('vault', '0002_attempts_and_outbox_contact')]

    initial = False

    operations = [
        AlterEnumField(
            model_name='AlertPreference',
            name='cadence',
            field=fields.CharEnumField(description='INSTANT: instant\nDAILY: daily\nWEEKLY: weekly', enum_type=Cadence, max_length=16),
        ),
        AlterEnumField(
            model_name='ChatInbound',
            name='platform',
            field=fields.CharEnumField(description='EMAIL: email\nSLACK: slack\nTELEGRAM: telegram\nCLI: cli', enum_type=Channel, max_length=16),
        ),
        AlterEnumField(
            model_name='ChatInbound',
            name='state',
            field=fields.CharEnumField(default=InboundState.RECEIVED, description='RECEIVED: received\nPROCESSED: processed\nFAILED: failed', enum_type=InboundState, max_length=16),
        ),
        AlterEnumField(
            model_name='Digest',
            name='state',
            field=fields.CharEnumField(default=DigestState.ENQUEUED, description='ENQUEUED: enqueued\nEMPTY: empty\nSENT: sent\nDEAD: dead', enum_type=DigestState, max_length=16),
        ),
        AlterEnumField(
            model_name='Escalation',
            name='kind',
            field=fields.CharEnumField(description='UNKNOWN_SENDER: unknown_sender\nUNAUTHENTICATED: unauthenticated\nINACTIVE_CONTACT: inactive_contact\nMALFORMED_SENDER: malformed_sender\nUNLINKED: unlinked\nWRONG_WORKSPACE: wrong_workspace\nDEAD_DELIVERY: dead_delivery\nBOUNCE: bounce\nDISPUTE: dispute\nPERSON: person\nUNPROCESSABLE: unprocessable\nUNCLEAR: unclear\nOVERDUE_QUESTION: overdue_question\nLINK_LOCKED: link_locked', enum_type=EscalationKind, max_length=64),
        ),
        AlterEnumField(
            model_name='InboundMessage',
            name='state',
            field=fields.CharEnumField(default=InboundState.RECEIVED, description='RECEIVED: received\nPROCESSED: processed\nFAILED: failed', enum_type=InboundState, max_length=16),
        ),
        AlterEnumField(
            model_name='InvoiceEvent',
            name='kind',
            field=fields.CharEnumField(description='ISSUED: invoice.issued\nSTATUS_CHANGED: invoice.status_changed\nPAYMENT_RECEIVED: payment.received\nDUE_SOON: invoice.due_soon', enum_type=EventKind, max_length=32),
        ),
        ops.RunPython(_keep_notifications, _restore_notifications),
        ops.AlterField(
            model_name='InvoiceEvent',
            name='new_status',
            field=fields.CharEnumField(null=True, description='OPEN: open\nPARTIALLY_PAID: partially_paid\nPAID: paid\nOVERDUE: overdue\nVOID: void\nDISPUTED: disputed', enum_type=InvoiceStatus, max_length=16),
        ),
        ops.AlterField(
            model_name='InvoiceEvent',
            name='old_status',
            field=fields.CharEnumField(null=True, description='OPEN: open\nPARTIALLY_PAID: partially_paid\nPAID: paid\nOVERDUE: overdue\nVOID: void\nDISPUTED: disputed', enum_type=InvoiceStatus, max_length=16),
        ),
        ops.RunSQL(
            [
                "UPDATE invoice_event SET old_status = NULL WHERE old_status = ''",
                "UPDATE invoice_event SET new_status = NULL WHERE new_status = ''",
            ],
            reverse_sql=[
                "UPDATE invoice_event SET old_status = '' WHERE old_status IS NULL",
                "UPDATE invoice_event SET new_status = '' WHERE new_status IS NULL",
            ],
        ),
        ops.RunPython(_restore_notifications, _keep_notifications),
        AlterEnumField(
            model_name='Notification',
            name='cadence',
            field=fields.CharEnumField(description='INSTANT: instant\nDAILY: daily\nWEEKLY: weekly', enum_type=Cadence, max_length=16),
        ),
        AlterEnumField(
            model_name='Notification',
            name='channel',
            field=fields.CharEnumField(description='EMAIL: email\nSLACK: slack\nTELEGRAM: telegram\nCLI: cli', enum_type=Channel, max_length=16),
        ),
        AlterEnumField(
            model_name='Notification',
            name='state',
            field=fields.CharEnumField(default=NotificationState.WAITING, description='WAITING: waiting\nENQUEUED: enqueued\nSENT: sent\nDEAD: dead\nCANCELLED: cancelled\nDIGESTED: digested', enum_type=NotificationState, max_length=16),
        ),
        AlterEnumField(
            model_name='OutboxMessage',
            name='channel',
            field=fields.CharEnumField(default=Channel.EMAIL, description='EMAIL: email\nSLACK: slack\nTELEGRAM: telegram\nCLI: cli', enum_type=Channel, max_length=16),
        ),
        AlterEnumField(
            model_name='OutboxMessage',
            name='kind',
            field=fields.CharEnumField(description='REPLY: reply\nNOTICE: notice\nALERT: alert\nDIGEST: digest\nTEST: test\nLINK_CODE: link_code\nLINK_LOCKED: link_locked', enum_type=OutboxKind, max_length=32),
        ),
        AlterEnumField(
            model_name='OutboxMessage',
            name='state',
            field=fields.CharEnumField(default=OutboxState.PENDING, description='PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed\nDEAD: dead', enum_type=OutboxState, max_length=16),
        ),
    ]
