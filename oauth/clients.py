"""OAuth clients: one per IdP connection, bound to one tenant, with rotating secrets.

Entra's gallery rules ask for secrets that expire (1-3 years), several active secrets at once
so they can be rotated, and deletion of old ones; client ids and secrets are shown once.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from oauth import hashing, scopes
from oauth.context import Event, emit
from oauth.errors import CredentialError, CredentialNotFound, checked_name
from oauth.models import (
    AUTHORIZATION_CODE,
    GRANT_TYPES,
    Client,
    ClientSecret,
    database,
    utcnow,
)


def create_client(tenant: str, *, grant_type: str, name: str, secret_days: int, redirect_uris=(),
                  scope: tuple[str, ...] = scopes.SCIM_SCOPES) -> tuple[Client, ClientSecret, str]:
    """A new client with its first secret; returns the client, the secret row and the secret."""
    name = checked_name(name, "client")
    uris = _valid_redirect_uris(grant_type, redirect_uris)
    with database.atomic():
        client = Client.create(client_id=hashing.new_identifier(), tenant=tenant, name=name,
                               grant_type=grant_type, redirect_uris="\n".join(uris), scope=scopes.to_text(scope))
        secret, plaintext = _add_secret(client, secret_days)
        emit(_event("client.created", client, grant_type=grant_type, scope=client.scope,
                    redirect_uris=uris))
    return client, secret, plaintext


def list_clients(tenant: str) -> list[Client]:
    return list(Client.select().where(Client.tenant == tenant).order_by(Client.id))


def find_client(client_id: str) -> Client:
    client = Client.get_or_none(Client.client_id == client_id)
    if client is None:
        raise CredentialNotFound(f"No client with client_id {client_id}")
    return client


def secrets_of(client: Client) -> list[ClientSecret]:
    return list(client.secrets.order_by(ClientSecret.id))


def rotate_secret(client_id: str, *, secret_days: int) -> tuple[Client, ClientSecret, str]:
    """Add a new secret; the older ones keep working until deleted or expired."""
    with database.atomic():
        client = find_client(client_id)
        secret, plaintext = _add_secret(client, secret_days)
        emit(_event("client.secret_added", client, secret_id=secret.id))
    return client, secret, plaintext


def delete_secret(client_id: str, secret_id: int) -> Client:
    """Delete one secret at once. The last unexpired secret cannot go: rotate first."""
    with database.atomic():
        client = find_client(client_id)
        secret = ClientSecret.get_or_none((ClientSecret.id == secret_id) & (ClientSecret.client == client))
        if secret is None:
            raise CredentialNotFound(f"Client {client_id} has no secret with id {secret_id}")
        others = [other for other in secrets_of(client) if other.id != secret.id and not other.is_expired()]
        if not others and not secret.is_expired():
            raise CredentialError(f"Secret {secret_id} is the only active secret of client {client_id}; "
                                  f"add one with `client rotate-secret {client_id}` first")
        secret.delete_instance()
        emit(_event("client.secret_deleted", client, secret_id=secret_id))
    return client


def _add_secret(client: Client, secret_days: int) -> tuple[ClientSecret, str]:
    plaintext = hashing.new_secret(hashing.PREFIX_CLIENT_SECRET)
    now = utcnow()
    secret = ClientSecret.create(client=client, secret_hash=hashing.hash_secret(plaintext), created_at=now,
                                 expires_at=now + timedelta(days=secret_days))
    return secret, plaintext


def _valid_redirect_uris(grant_type: str, uris) -> list[str]:
    if grant_type not in GRANT_TYPES:
        raise CredentialError(f"grant must be one of {', '.join(GRANT_TYPES)}")
    uris = list(dict.fromkeys(uri.strip() for uri in uris if uri.strip()))
    if grant_type != AUTHORIZATION_CODE:
        if uris:
            raise CredentialError("Redirect URIs only apply to authorization_code clients")
        return uris
    if not uris:
        raise CredentialError("An authorization_code client needs at least one --redirect-uri")
    for uri in uris:
        _check_redirect_uri(uri)
    return uris


def _check_redirect_uri(uri: str) -> None:
    """RFC 6749 §3.1.2: an absolute URI without a fragment. (http is allowed: Okta's own list
    includes http://system-admin.okta1.com:1802/...)"""
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise CredentialError(f"Redirect URI {uri!r} must be an absolute http(s) URI")
    if parts.fragment or "#" in uri:
        raise CredentialError(f"Redirect URI {uri!r} must not contain a fragment (#...)")
    if "\n" in uri or " " in uri:
        raise CredentialError(f"Redirect URI {uri!r} must not contain spaces or line breaks")


def _event(action: str, client: Client, **details) -> Event:
    return Event(action=action, tenant=client.tenant, target_type="oauth_client", target_id=client.client_id,
                 target_label=client.name, details=details)
