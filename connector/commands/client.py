"""`ally-scim client`: OAuth 2.0 clients (Entra client credentials, Okta authorization code)."""
from __future__ import annotations

import click
from flask import current_app

from connector import integrations, settings_of
from connector.clock import isoformat, utcnow
from connector.commands import ROW_ID, echo_json, with_app
from connector.commands.token import INVITATION_CHOICE, scope_option, set_invitations, skip_invitations_option
from connector.db import write_transaction
from connector.oauth_tenancy import organisation_of, tenant_of
from connector.organisations import find_organisation
from oauth import clients, scopes
from oauth.models import AUTHORIZATION_CODE, GRANT_TYPES

DEFAULT_NAMES = {"client_credentials": "Entra ID", "authorization_code": "Okta"}


@click.group("client")
def client_group():
    """OAuth 2.0 clients, each bound to one organisation."""


@client_group.command("create")
@click.option("--org", required=True, help="Organisation name or slug.")
@click.option("--grant", required=True, type=click.Choice(GRANT_TYPES),
              help="client_credentials (Entra ID) or authorization_code (Okta).")
@click.option("--redirect-uri", "redirect_uris", multiple=True, metavar="URI",
              help="For authorization_code: a redirect URI, matched exactly (repeat for several).")
@click.option("--name", help="Names the client on the consent page and in the audit log.")
@scope_option
@skip_invitations_option
@click.option("--json", "as_json", is_flag=True, help='Print {"client_id","client_secret",...}.')
@with_app
def create(org, grant, redirect_uris, name, scope, skip_invitations, as_json):
    """Create a client and print its id and first secret. The secret is shown this once."""
    organisation = find_organisation(org)
    with write_transaction():
        row, secret, plaintext = clients.create_client(
            tenant_of(organisation), grant_type=grant, name=name or DEFAULT_NAMES[grant],
            secret_days=_secret_days(), redirect_uris=redirect_uris, scope=scope)
        if skip_invitations:
            integrations.set_skip_invitations(row.key, True, organisation=organisation, label=row.label)
    summary = {"client_id": row.client_id, "client_secret": plaintext, "secret_id": secret.id,
               "secret_expires_at": isoformat(secret.expires_at), **_endpoints(row), **describe(row)}
    if as_json:
        echo_json(summary)
        return
    for key, value in summary.items():
        if key not in ("secrets", "id"):
            click.echo(f"{key + ':':<24} {' '.join(value) if isinstance(value, list) else value}")
    click.echo("The client secret is shown only now; keep it secret.", err=True)


@client_group.command("list")
@click.option("--org", required=True, help="Organisation name or slug.")
@click.option("--json", "as_json", is_flag=True, help="One object per client (never a secret).")
@with_app
def list_(org, as_json):
    """List the organisation's clients and their secrets' ids and expiry (never a secret)."""
    found = clients.list_clients(tenant_of(find_organisation(org)))
    skips = integrations.skip_flags(client.key for client in found)
    rows = [{**describe(client), "skip_invitations": skips.get(client.key, False)} for client in found]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No clients.")
    for row in rows:
        click.echo(f"{row['client_id']}  {row['name']}  {row['grant']}  scopes: {' '.join(row['scopes'])}"
                   + ("  skips invitation emails" if row["skip_invitations"] else ""))
        for uri in row["redirect_uris"]:
            click.echo(f"    redirect URI: {uri}")
        for secret in row["secrets"]:
            click.echo(f"    secret {secret['id']}: {secret['status']}, created {secret['created_at']}, "
                       f"expires {secret['expires_at']}")


@client_group.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help='Print {"client_id","secret_id","client_secret","expires_at"}.')
@with_app
def rotate_secret(client_id, as_json):
    """Add a new secret (printed alone on stdout, once); the old ones work until deleted."""
    with write_transaction():
        row, secret, plaintext = clients.rotate_secret(client_id, secret_days=_secret_days())
    if as_json:
        echo_json({"client_id": row.client_id, "secret_id": secret.id, "client_secret": plaintext,
                   "expires_at": isoformat(secret.expires_at)})
        return
    click.echo(plaintext)
    click.echo(f"New secret {secret.id} of client {row.client_id}, expires {isoformat(secret.expires_at)}. "
               f"Delete the old one once the IdP uses this: ally-scim client delete-secret {row.client_id} ID",
               err=True)


@client_group.command("delete-secret")
@click.argument("client_id")
@click.argument("secret_id", type=ROW_ID)
@with_app
def delete_secret(client_id, secret_id):
    """Delete one of a client's secrets; it stops working at once."""
    with write_transaction():
        clients.delete_secret(client_id, secret_id)
    click.echo(f"Secret {secret_id} of client {client_id} deleted.")


@client_group.command("set-invitations")
@click.argument("client_id")
@click.argument("choice", type=INVITATION_CHOICE)
@with_app
def set_client_invitations(client_id, choice):
    """Whether users this client's IdP creates get an invitation email: skip or send."""
    row = clients.find_client(client_id)
    set_invitations(row.key, choice, organisation=organisation_of(row.tenant), label=row.label)


def describe(row) -> dict:
    now = utcnow()
    return {"id": row.id, "client_id": row.client_id, "name": row.name, "grant": row.grant_type,
            "scopes": list(scopes.to_tuple(row.scope)), "redirect_uris": row.redirect_uri_list,
            "created_at": isoformat(row.created_at),
            "secrets": [{"id": secret.id, "status": "expired" if secret.is_expired(now) else "active",
                         "created_at": isoformat(secret.created_at), "expires_at": isoformat(secret.expires_at)}
                        for secret in clients.secrets_of(row)]}


def _endpoints(row) -> dict:
    base = settings_of(current_app).public_url
    endpoints = {"token_endpoint": f"{base}/oauth/token", "scim_base_url": f"{base}/scim/v2"}
    if row.grant_type == AUTHORIZATION_CODE:
        endpoints["authorization_endpoint"] = f"{base}/oauth/authorize"
    return endpoints


def _secret_days() -> int:
    return settings_of(current_app).oauth.client_secret_days
