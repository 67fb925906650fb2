from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('vault', '0019_render_queue')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='AuditEvent',
            index=Index(fields=['contact_id', 'action', 'at']),
        ),
        ops.AddIndex(
            model_name='Payment',
            index=Index(fields=['account_id', 'invoice_id']),
        ),
    ]
