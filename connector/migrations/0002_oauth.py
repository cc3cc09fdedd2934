"""OAuth credentials (clients and their secrets, long-lived bearer tokens, issued access and
refresh tokens, authorization codes) and the shared rate-limit counters.

Frozen copy of oauth/models.py and connector.models.RateLimitCounter as they were when this
migration was written; later changes come with a new migration, never an edit here.
"""
import uuid
from datetime import datetime, timezone

from peewee import (
    AutoField,
    BigAutoField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def utcnow():
    moment = datetime.now(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def new_family():
    return str(uuid.uuid4())


class BaseModel(Model):
    class Meta:
        legacy_table_names = False


class Client(BaseModel):
    id = AutoField()
    client_id = CharField(max_length=64, unique=True)
    tenant = CharField(max_length=64)
    name = CharField(max_length=100)
    grant_type = CharField(max_length=32)
    redirect_uris = TextField(default="")
    scope = TextField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "oauth_client"


class ClientSecret(BaseModel):
    id = AutoField()
    client = ForeignKeyField(Client, backref="secrets", on_delete="CASCADE")
    secret_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()

    class Meta:
        table_name = "oauth_client_secret"


class BearerToken(BaseModel):
    id = AutoField()
    tenant = CharField(max_length=64)
    name = CharField(max_length=100)
    token_hash = CharField(max_length=64, unique=True)
    scope = TextField()
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    class Meta:
        table_name = "oauth_bearer_token"


class AccessToken(BaseModel):
    id = BigAutoField()
    client = ForeignKeyField(Client, backref="tokens", on_delete="CASCADE")
    tenant = CharField(max_length=64)
    grant_type = CharField(max_length=32)
    admin_id = CharField(max_length=64, null=True)
    family = CharField(max_length=36)
    access_token_hash = CharField(max_length=64, unique=True)
    refresh_token_hash = CharField(max_length=64, unique=True, null=True)
    scope = TextField()
    issued_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    refresh_expires_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    refresh_revoked_at = DateTimeField(null=True)

    class Meta:
        table_name = "oauth_access_token"


class AuthorizationCode(BaseModel):
    id = BigAutoField()
    client = ForeignKeyField(Client, backref="codes", on_delete="CASCADE")
    tenant = CharField(max_length=64)
    admin_id = CharField(max_length=64)
    family = CharField(max_length=36, default=new_family)
    code_hash = CharField(max_length=64, unique=True)
    redirect_uri = TextField(null=True)
    scope = TextField()
    code_challenge = CharField(max_length=128, null=True)
    code_challenge_method = CharField(max_length=10, null=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "oauth_authorization_code"


class RateLimitCounter(BaseModel):
    id = BigAutoField()
    key = CharField(max_length=200)
    window_ends_at = DateTimeField()
    count = IntegerField(default=0)


BearerToken.add_index(BearerToken.tenant)
Client.add_index(Client.tenant)
AccessToken.add_index(AccessToken.family)
AccessToken.add_index(AccessToken.expires_at)
AuthorizationCode.add_index(AuthorizationCode.expires_at)
RateLimitCounter.add_index(RateLimitCounter.key, RateLimitCounter.window_ends_at, unique=True)
RateLimitCounter.add_index(RateLimitCounter.window_ends_at)

MODELS = [Client, ClientSecret, BearerToken, AccessToken, AuthorizationCode, RateLimitCounter]


def up(migrator, db):
    with db.bind_ctx(MODELS):
        db.create_tables(MODELS)
