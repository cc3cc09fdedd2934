"""Access and refresh tokens issued at the token endpoint: storing them (hashed), finding a
presented one, claiming a refresh token or code exactly once, and revoking.

"Claiming" is one conditional UPDATE: of two requests racing with the same code or refresh
token, exactly one wins, in every worker and on both databases. Whoever loses, or replays an
already used one, gets nothing, and the whole family of tokens from that grant is revoked
(RFC 6749 §4.1.2, RFC 9700 §4.14.2).
"""
from __future__ import annotations

import functools
from datetime import timedelta

from oauth import hashing
from oauth.context import Event, current, emit
from oauth.models import AccessToken, AuthorizationCode, Client, database, from_cells, new_family, utcnow
from oauth.tenant_rows import TenantRows

# Expired rows are kept a while (for audit questions about recent tokens), then deleted.
KEEP_EXPIRED = timedelta(days=7)


def save(token: dict, request) -> AccessToken:
    """Store what authlib generated for this request (RFC 6749 §5.1); only hashes are kept."""
    ctx = current()
    client = request.client
    now = utcnow()
    refresh = token.get("refresh_token")
    row = AccessToken.create(
        client=client, tenant=client.tenant, grant_type=request.payload.grant_type,
        admin_id=request.user.id if request.user else None, family=_family_of(request),
        access_token_hash=hashing.hash_secret(token["access_token"]),
        refresh_token_hash=hashing.hash_secret(refresh) if refresh else None,
        scope=token.get("scope", ""), issued_at=now, expires_at=now + timedelta(seconds=token["expires_in"]),
        refresh_expires_at=now + timedelta(seconds=ctx.refresh_token_seconds) if refresh else None)
    emit(_event("oauth.token_issued", row, client, grant_type=row.grant_type, scope=row.scope,
                with_refresh=bool(refresh)))
    _delete_long_expired(now)
    return row


def find_access_token(plaintext: str, tenant_rows: TenantRows | None = None) -> AccessToken | None:
    """The access token (with its client) for a presented one, found by its hash; with
    `tenant_rows`, its tenant's row read in the same statement, as the token's `tenant_row`."""
    if not plaintext.startswith(hashing.PREFIX_ACCESS_TOKEN):
        return None
    sql, params = _by_access_hash(type(database.obj), tenant_rows)
    row = database.execute_sql(sql, hashing.lookup_parameters(params, plaintext)).fetchone()
    if row is None:
        return None
    token = from_cells(AccessToken, row)
    token.client = from_cells(Client, row[len(_TOKEN_FIELDS):])
    token._dirty.clear()
    if tenant_rows is not None:
        tenant_rows.attach(token, row)
    return token


_TOKEN_FIELDS, _CLIENT_FIELDS = AccessToken._meta.sorted_fields, Client._meta.sorted_fields


@functools.cache
def _by_access_hash(kind_of_database, tenant_rows: TenantRows | None) -> tuple[str, list]:
    """The SQL text and parameters finding an access token (then its client's columns, then its
    tenant's) by hash, built once per process and kind of database: it runs on every SCIM request
    of an OAuth client, and peewee takes longer to build it than the database to answer it. The
    row is read afresh each time, so a revocation counts from the very next request."""
    query = AccessToken.select(*_TOKEN_FIELDS, *_CLIENT_FIELDS).join(Client)
    if tenant_rows is not None:
        query = tenant_rows.joined(query.switch(AccessToken), AccessToken.tenant)
    return query.where(AccessToken.access_token_hash == hashing.HASH_SLOT).limit(1).sql()


def find_refresh_token(plaintext: str) -> AccessToken | None:
    if not plaintext.startswith(hashing.PREFIX_REFRESH_TOKEN):
        return None
    return _with_client().where(AccessToken.refresh_token_hash == hashing.hash_secret(plaintext)).first()


def claim_refresh_token(row: AccessToken) -> bool:
    """Retire the refresh token for this one use; False when another request already did."""
    retired = (AccessToken.update(refresh_revoked_at=utcnow())
               .where((AccessToken.id == row.id) & AccessToken.refresh_revoked_at.is_null()).execute())
    return retired == 1


def claim_code(code: AuthorizationCode) -> bool:
    """Mark the code used; False when another request already used it."""
    used = (AuthorizationCode.update(used_at=utcnow())
            .where((AuthorizationCode.id == code.id) & AuthorizationCode.used_at.is_null()).execute())
    return used == 1


def revoke_access_token(row: AccessToken, *, reason: str | None = None) -> None:
    """Revoke one access token (its refresh token stays); with a reason, it is an audit event."""
    count = (AccessToken.update(revoked_at=utcnow())
             .where((AccessToken.id == row.id) & AccessToken.revoked_at.is_null()).execute())
    if reason and count:
        emit(_revoked_event(row.client, reason, count))


def revoke_family(family: str, client: Client, *, reason: str) -> int:
    """Revoke every access and refresh token descending from one grant; returns how many rows."""
    now = utcnow()
    count = (AccessToken.update(revoked_at=now, refresh_revoked_at=now)
             .where((AccessToken.family == family)
                    & (AccessToken.revoked_at.is_null() | AccessToken.refresh_revoked_at.is_null())).execute())
    emit(_revoked_event(client, reason, count))
    return count


def _family_of(request) -> str:
    """Tokens from a code or a refresh belong to the family of that grant; others start one."""
    source = request.authorization_code or request.refresh_token
    return source.family if source is not None else new_family()


def _with_client():
    return AccessToken.select(AccessToken, Client).join(Client)


def _delete_long_expired(now) -> None:
    cutoff = now - KEEP_EXPIRED
    (AccessToken.delete()
     .where((AccessToken.expires_at < cutoff)
            & (AccessToken.refresh_expires_at.is_null() | (AccessToken.refresh_expires_at < cutoff)))
     .execute())


def _event(action: str, row: AccessToken, client: Client, **details) -> Event:
    return Event(action=action, tenant=row.tenant, target_type="oauth_client", target_id=client.client_id,
                 target_label=client.name, actor=client.label, details=details)


def _revoked_event(client: Client, reason: str, count: int) -> Event:
    return Event(action="oauth.tokens_revoked", tenant=client.tenant, target_type="oauth_client",
                 target_id=client.client_id, target_label=client.name, actor=client.label,
                 details={"reason": reason, "tokens": count})
