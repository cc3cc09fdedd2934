"""The OAuth tables, as peewee models bound at run time (oauth.init_app) to the application's
database. The schema is created by the application's migrations (connector/migrations/0002).

Nothing here points at the application's tables: a credential belongs to an opaque `tenant`
string, which the application maps to its organisation. Only hashes of secrets are stored
(oauth/hashing.py); timestamps are naive UTC.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from peewee import (
    AutoField,
    BigAutoField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    Model,
    TextField,
)

from oauth import hashing, scopes

database = DatabaseProxy()

CLIENT_CREDENTIALS = "client_credentials"
AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"
GRANT_TYPES = (CLIENT_CREDENTIALS, AUTHORIZATION_CODE)
# RFC 6749 §2.3.1: both ways of sending client credentials (Entra's "Header", "Body", "Both").
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


def utcnow() -> datetime:
    """Now in naive UTC to the millisecond, the convention of the application's database."""
    moment = datetime.now(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def new_family() -> str:
    return str(uuid.uuid4())


class OAuthModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Client(OAuthModel, ClientMixin):
    """An OAuth client (an IdP connection) of one tenant, with one or more active secrets."""

    id = AutoField()
    client_id = CharField(max_length=64, unique=True)
    tenant = CharField(max_length=64)
    name = CharField(max_length=100)
    grant_type = CharField(max_length=32)
    redirect_uris = TextField(default="")  # one per line, matched exactly
    scope = TextField()  # the SCIM scopes this client may be granted
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "oauth_client"

    @property
    def redirect_uri_list(self) -> list[str]:
        return [uri for uri in self.redirect_uris.split("\n") if uri]

    @property
    def label(self) -> str:
        return f"client:{self.name}"

    @property
    def key(self) -> str:
        """Stable identity of this connection, for settings the application keeps about it."""
        return f"client:{self.client_id}"

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        # RFC 6749 §3.1.2.3: with several registered URIs the request must name one.
        uris = self.redirect_uri_list
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope):
        """RFC 6749 §3.3: the granted scope. Asking for no SCIM scope (or none at all) grants the
        client's registered scopes; offline_access is kept for clients that get refresh tokens."""
        requested = scopes.to_tuple(scope)
        allowed = scopes.to_tuple(self.scope)
        granted = [name for name in allowed if name in requested] or list(allowed)
        if scopes.OFFLINE_ACCESS in requested and self.grant_type == AUTHORIZATION_CODE:
            granted.append(scopes.OFFLINE_ACCESS)
        return scopes.to_text(granted)

    def check_redirect_uri(self, redirect_uri):
        # RFC 9700 §4.1.1: redirect URIs are compared by exact string matching.
        return redirect_uri in self.redirect_uri_list

    def check_client_secret(self, client_secret):
        """Any unexpired secret of this client, compared by hash in constant time (authlib#107)."""
        now = utcnow()
        active = ClientSecret.select().where((ClientSecret.client == self) & (ClientSecret.expires_at > now))
        return any(hashing.secret_matches(client_secret, secret.secret_hash) for secret in active)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in CLIENT_AUTH_METHODS

    def check_response_type(self, response_type):
        return response_type == "code" and self.grant_type == AUTHORIZATION_CODE

    def check_grant_type(self, grant_type):
        if grant_type == REFRESH_TOKEN:
            return self.grant_type == AUTHORIZATION_CODE
        return grant_type == self.grant_type


class ClientSecret(OAuthModel):
    """One of a client's secrets; several may be active at once so they can be rotated."""

    id = AutoField()
    client = ForeignKeyField(Client, backref="secrets", on_delete="CASCADE")
    secret_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()

    class Meta:
        table_name = "oauth_client_secret"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or utcnow())


class BearerToken(OAuthModel, TokenMixin):
    """A long-lived bearer token an admin created (Entra "Secret Token", Okta "HTTP Header")."""

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

    @property
    def label(self) -> str:
        return f"token:{self.name}"

    @property
    def key(self) -> str:
        """Stable identity of this connection, for settings the application keeps about it."""
        return f"token:{self.id}"

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if self.is_expired() else "active"

    def check_client(self, client):
        return False  # no OAuth client owns it: only an admin can revoke it

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return 0 if self.expires_at is None else int((self.expires_at - self.created_at).total_seconds())

    def is_expired(self):
        return self.expires_at is not None and self.expires_at <= utcnow()

    def is_revoked(self):
        return self.revoked_at is not None


class AccessToken(OAuthModel, TokenMixin):
    """An access token issued at the token endpoint, with its refresh token if one was issued.
    Tokens descending from one authorization (code, then each refresh) share a `family`, so a
    replayed code or refresh token can revoke them all together."""

    id = BigAutoField()
    client = ForeignKeyField(Client, backref="tokens", on_delete="CASCADE")
    tenant = CharField(max_length=64)
    grant_type = CharField(max_length=32)
    admin_id = CharField(max_length=64, null=True)  # who approved an authorization-code grant
    family = CharField(max_length=36)
    access_token_hash = CharField(max_length=64, unique=True)
    refresh_token_hash = CharField(max_length=64, unique=True, null=True)
    scope = TextField()
    issued_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    refresh_expires_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)  # the access token
    refresh_revoked_at = DateTimeField(null=True)  # the refresh token: used (rotated) or revoked

    class Meta:
        table_name = "oauth_access_token"

    @property
    def label(self) -> str:
        return self.client.label

    @property
    def key(self) -> str:
        return self.client.key

    def check_client(self, client):
        return self.client_id == client.id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self):
        return self.expires_at <= utcnow()

    def is_revoked(self):
        return self.revoked_at is not None

    def refresh_usable(self) -> bool:
        return (self.refresh_token_hash is not None and self.refresh_revoked_at is None
                and self.refresh_expires_at is not None and self.refresh_expires_at > utcnow())


class AuthorizationCode(OAuthModel, AuthorizationCodeMixin):
    """A one-time code from the consent page; kept after use until it expires, to spot replays."""

    id = BigAutoField()
    client = ForeignKeyField(Client, backref="codes", on_delete="CASCADE")
    tenant = CharField(max_length=64)
    admin_id = CharField(max_length=64)
    family = CharField(max_length=36, default=new_family)
    code_hash = CharField(max_length=64, unique=True)
    redirect_uri = TextField(null=True)  # as sent in the authorization request, if it was
    scope = TextField()
    code_challenge = CharField(max_length=128, null=True)
    code_challenge_method = CharField(max_length=10, null=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "oauth_authorization_code"

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope


BearerToken.add_index(BearerToken.tenant)
Client.add_index(Client.tenant)
AccessToken.add_index(AccessToken.family)
AccessToken.add_index(AccessToken.expires_at)
AuthorizationCode.add_index(AuthorizationCode.expires_at)

MODELS = (Client, ClientSecret, BearerToken, AccessToken, AuthorizationCode)


def from_cells(model, cells, fields=None):
    """A row of `model` from the values of its `fields` (all, in `_meta.sorted_fields` order,
    when not given) as the database driver gave them, converted and marked clean as peewee
    marks a row it reads. For the lookups of every request, whose SQL text is kept: peewee's
    own result wrapper works the columns out from the cursor each time."""
    fields = fields or model._meta.sorted_fields
    row = model(__no_default__=1, **{field.name: field.python_value(cell) for field, cell in zip(fields, cells)})
    row._dirty.clear()
    return row
