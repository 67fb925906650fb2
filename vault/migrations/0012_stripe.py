"""Stripe: the events handled (by id, for idempotency), which account each Stripe customer
is, and the escalation kind `billing` (an AR item for what Stripe reports and the vault does
not follow). The kind's AlterField is skipped on SQLite (see 0004_e_invoice)."""

import importlib

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from vault.vocabulary.escalations import EscalationKind

AlterEnumField = importlib.import_module("vault.migrations.0004_e_invoice").AlterEnumField

class Migration(migrations.Migration):
    dependencies = [('vault', '0011_escalation_kinds')]

    initial = False

    operations = [
        ops.CreateModel(
            name='StripeCustomer',
            fields=[
                ('customer_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('account_id', fields.CharField(max_length=64)),
            ],
            options={'table': 'stripe_customer', 'app': 'vault', 'pk_attr': 'customer_id', 'table_description': 'Which of our accounts a Stripe customer is (stripe.account_id_from), so an invoice'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StripeEvent',
            fields=[
                ('event_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('type', fields.CharField(max_length=64)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'stripe_event', 'app': 'vault', 'pk_attr': 'event_id', 'table_description': 'A Stripe webhook event handled (or synced): a second delivery of the same id is'},
            bases=['Model'],
        ),
        AlterEnumField(
            model_name='Escalation',
            name='kind',
            field=fields.CharEnumField(description='UNKNOWN_SENDER: unknown_sender\nUNAUTHENTICATED: unauthenticated\nINACTIVE_CONTACT: inactive_contact\nMALFORMED_SENDER: malformed_sender\nUNLINKED: unlinked\nWRONG_WORKSPACE: wrong_workspace\nDEAD_DELIVERY: dead_delivery\nBOUNCE: bounce\nDISPUTE: dispute\nPERSON: person\nUNPROCESSABLE: unprocessable\nUNCLEAR: unclear\nOVERDUE_QUESTION: overdue_question\nLINK_LOCKED: link_locked\nLINK_LIMITED: link_limited\nE_INVOICE: e_invoice\nREPEATED_HEADER: repeated_header\nBILLING: billing', enum_type=EscalationKind, max_length=64),
        ),
    ]
