"""Long-lived bearer tokens: Entra's "Secret Token" and Okta's "HTTP Header" modes.

Created by an admin, shown once, stored as a hash, optionally expiring, revocable. A revoked
token is refused at its next request in every worker: the protector reads the row each time.
"""
from __future__ import annotations

import functools
from datetime import timedelta

from oauth import hashing, scopes
from oauth.context import Event, emit
from oauth.errors import CredentialError, CredentialNotFound, checked_name
from oauth.models import BearerToken, database, from_cells, utcnow
from oauth.tenant_rows import TenantRows


def create_token(tenant: str, *, name: str, scope: tuple[str, ...] = scopes.SCIM_SCOPES,
                 expires_in_days: int | None = None) -> tuple[BearerToken, str]:
    """A new token for the tenant; returns the row and the token itself (shown once, never stored)."""
    name = checked_name(name, "token")
    if expires_in_days is not None and expires_in_days < 1:
        raise CredentialError("--expires-in must be at least 1 day")
    plaintext = hashing.new_secret(hashing.PREFIX_BEARER_TOKEN)
    now = utcnow()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    with database.atomic():
        token = BearerToken.create(tenant=tenant, name=name, token_hash=hashing.hash_secret(plaintext),
                                   scope=scopes.to_text(scope), created_at=now, expires_at=expires_at)
        emit(_event("token.created", token, scope=token.scope))
    return token, plaintext


def list_tokens(tenant: str) -> list[BearerToken]:
    return list(BearerToken.select().where(BearerToken.tenant == tenant).order_by(BearerToken.id))


def find_token(token_id: int) -> BearerToken:
    token = BearerToken.get_or_none(BearerToken.id == token_id)
    if token is None:
        raise CredentialNotFound(f"No token with id {token_id}")
    return token


def find_named(tenant: str, name: str) -> BearerToken | None:
    """The newest token of that name that is neither revoked nor expired."""
    candidates = (BearerToken.select()
                  .where((BearerToken.tenant == tenant) & (BearerToken.name == name) & BearerToken.revoked_at.is_null())
                  .order_by(BearerToken.id.desc()))
    return next((token for token in candidates if not token.is_expired()), None)


def revoke_token(token_id: int) -> tuple[BearerToken, bool]:
    """Revoke the token with this id; returns it and whether this call revoked it (False when it
    already was)."""
    with database.atomic():
        token = BearerToken.get_or_none(BearerToken.id == token_id)
        if token is None:
            raise CredentialNotFound(f"No token with id {token_id}")
        if token.revoked_at is not None:
            return token, False
        token.revoked_at = utcnow()
        token.save(only=[BearerToken.revoked_at])
        emit(_event("token.revoked", token))
    return token, True


def _event(action: str, token: BearerToken, **details) -> Event:
    return Event(action=action, tenant=token.tenant, target_type="token", target_id=str(token.id),
                 target_label=token.name, details=details)


def find_by_secret(plaintext: str, tenant_rows: TenantRows | None = None) -> BearerToken | None:
    """The token row for a presented token, found by its hash (whatever its state); with
    `tenant_rows`, its tenant's row read in the same statement, as the token's `tenant_row`."""
    if not plaintext.startswith(hashing.PREFIX_BEARER_TOKEN):
        return None
    sql, params = _by_hash_sql(type(database.obj), tenant_rows)
    row = database.execute_sql(sql, hashing.lookup_parameters(params, plaintext)).fetchone()
    if row is None:
        return None
    token = from_cells(BearerToken, row, _FIELDS)
    if tenant_rows is not None:
        tenant_rows.attach(token, row)
    return token


_FIELDS = tuple(BearerToken._meta.sorted_fields)


@functools.cache
def _by_hash_sql(kind_of_database, tenant_rows: TenantRows | None) -> tuple[str, list]:
    """The lookup's SQL text and parameters, built once per process (and kind of database):
    peewee takes longer to build them than the database takes to run them, on every SCIM
    request. Only the text is kept; the row is read afresh each time, so a revocation counts
    from the very next request."""
    query = BearerToken.select(*_FIELDS)
    if tenant_rows is not None:
        query = tenant_rows.joined(query, BearerToken.tenant)
    return query.where(BearerToken.token_hash == hashing.HASH_SLOT).limit(1).sql()
