"""Per-connection settings (an IdP connection's own "Skip Invitation Email").

Frozen copy of connector.models.IntegrationSetting as it was when this migration was written.
"""
from datetime import datetime, timezone

from peewee import BooleanField, CharField, DateTimeField, Model


def utcnow():
    moment = datetime.now(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class IntegrationSetting(Model):
    key = CharField(primary_key=True, max_length=100)
    skip_invitations = BooleanField(default=False)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        legacy_table_names = False


def up(migrator, db):
    with db.bind_ctx([IntegrationSetting]):
        db.create_tables([IntegrationSetting])
