from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('vault', '0016_step_up')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Contact',
            name='answer_language',
            field=fields.CharField(default='', db_default='', max_length=8),
        ),
    ]
