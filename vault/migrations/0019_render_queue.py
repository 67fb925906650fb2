from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('vault', '0018_leases')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Invoice',
            name='render_claimed_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Invoice',
            index=Index(fields=['document_id', 'issue_date']),
        ),
    ]
