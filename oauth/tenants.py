"""Forgetting a tenant: when the application removes an organisation, every credential of it
goes too, so no token can ever reach whatever later gets the same tenant id (SQLite may reuse
the id of a deleted row)."""
from __future__ import annotations

from oauth.models import AccessToken, AuthorizationCode, BearerToken, Client, ClientSecret, database


def remove_tenant(tenant: str) -> int:
    """Delete all clients, secrets, codes and tokens of the tenant; returns how many rows went.
    Call it in the same transaction that deletes the organisation."""
    clients = Client.select(Client.id).where(Client.tenant == tenant)
    with database.atomic():
        removed = AccessToken.delete().where(AccessToken.client.in_(clients)).execute()
        removed += AuthorizationCode.delete().where(AuthorizationCode.client.in_(clients)).execute()
        removed += ClientSecret.delete().where(ClientSecret.client.in_(clients)).execute()
        removed += Client.delete().where(Client.tenant == tenant).execute()
        removed += BearerToken.delete().where(BearerToken.tenant == tenant).execute()
    return removed
