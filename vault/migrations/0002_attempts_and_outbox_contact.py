from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('vault', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ChatInbound',
            name='attempts',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='contact',
            field=fields.ForeignKeyField('vault.Contact', source_field='contact_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
    ]
