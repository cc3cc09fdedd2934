"""`ally-scim token`: long-lived bearer tokens (Entra "Secret Token", Okta "HTTP Header")."""
from __future__ import annotations

import click

from connector.clock import isoformat
from connector import integrations
from connector.commands import ROW_ID, echo_json, with_app
from connector.db import write_transaction
from connector.oauth_tenancy import organisation_of, tenant_of
from connector.organisations import find_organisation
from oauth import scopes, tokens

DEFAULT_NAME = "scim"
DEMO_NAME = "demo"


def parse_scope_option(ctx, param, value):
    try:
        return scopes.parse_scopes(value)
    except scopes.ScopeError as exc:
        raise click.BadParameter(str(exc)) from None


scope_option = click.option(
    "--scope", "scope", default=" ".join(scopes.SCIM_SCOPES), show_default=True, callback=parse_scope_option,
    help="Space-separated scopes: scim:read (GETs, searches), scim:write (changes), audit:read (the audit JSON endpoint).")


@click.group("token")
def token_group():
    """Long-lived bearer tokens for an identity provider."""


skip_invitations_option = click.option(
    "--skip-invitations", is_flag=True,
    help="Users this connection creates get no invitation email (on top of the organisation's setting).")
INVITATION_CHOICE = click.Choice(["skip", "send"])


def set_invitations(key: str, choice: str, *, organisation, label: str) -> None:
    """Record a connection's own "Skip Invitation Email" and say what it now does."""
    integrations.set_skip_invitations(key, choice == "skip", organisation=organisation, label=label)
    click.echo(f"{label}: invitation emails {'skipped' if choice == 'skip' else 'sent'} for the users it creates"
               + (" (the organisation skips them anyway)" if organisation.skip_invitations else ""))


@token_group.command("create")
@click.option("--org", required=True, help="Organisation name or slug.")
@click.option("--name", default=DEFAULT_NAME, show_default=True, help="Names the token in lists and the audit log.")
@scope_option
@click.option("--expires-in", type=click.IntRange(1, 3650), metavar="DAYS", help="Expire after DAYS (default: never).")
@skip_invitations_option
@click.option("--json", "as_json", is_flag=True, help='Print {"id","token","name","scopes","expires_at"}.')
@with_app
def create(org, name, scope, expires_in, skip_invitations, as_json):
    """Create a token and print it (alone on stdout). It is shown this once: only a hash is kept."""
    organisation = find_organisation(org)
    with write_transaction():
        row, plaintext = tokens.create_token(tenant_of(organisation), name=name, scope=scope,
                                             expires_in_days=expires_in)
        if skip_invitations:
            integrations.set_skip_invitations(row.key, True, organisation=organisation, label=row.label)
    if as_json:
        echo_json({"id": row.id, "token": plaintext, "name": row.name, "scopes": list(scope),
                   "expires_at": isoformat(row.expires_at)})
    else:
        click.echo(plaintext)


@token_group.command("list")
@click.option("--org", required=True, help="Organisation name or slug.")
@click.option("--json", "as_json", is_flag=True, help="One object per token (never the token itself).")
@with_app
def list_(org, as_json):
    """List the organisation's tokens: id, name, scopes, status, dates. Never the token."""
    found = tokens.list_tokens(tenant_of(find_organisation(org)))
    skips = integrations.skip_flags(token.key for token in found)
    rows = [{**describe(token), "skip_invitations": skips.get(token.key, False)} for token in found]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No tokens.")
    for row in rows:
        click.echo(f"{row['id']:>5}  {row['name']:<20}  {row['status']:<8}  {' '.join(row['scopes']):<21}  "
                   f"created {row['created_at']}  expires {row['expires_at'] or 'never'}"
                   + ("  skips invitation emails" if row["skip_invitations"] else ""))


@token_group.command("revoke")
@click.argument("token_id", type=ROW_ID)
@with_app
def revoke(token_id):
    """Revoke a token; it is refused from its next request on."""
    with write_transaction():
        row, changed = tokens.revoke_token(token_id)
    click.echo(f"Token {row.id} ({row.name}) {'revoked' if changed else 'was already revoked'}.")


@token_group.command("set-invitations")
@click.argument("token_id", type=ROW_ID)
@click.argument("choice", type=INVITATION_CHOICE)
@with_app
def set_token_invitations(token_id, choice):
    """Whether users this token's IdP creates get an invitation email: skip or send."""
    row = tokens.find_token(token_id)
    set_invitations(row.key, choice, organisation=organisation_of(row.tenant), label=row.label)


def describe(row) -> dict:
    return {"id": row.id, "name": row.name, "scopes": list(scopes.to_tuple(row.scope)), "status": row.status,
            "created_at": isoformat(row.created_at), "expires_at": isoformat(row.expires_at),
            "revoked_at": isoformat(row.revoked_at)}


def print_demo_token(settings) -> None:
    """`init --demo-token`: a first token for the first configured organisation, printed once
    with the SCIM base URL and a curl command to try it."""
    if not settings.organisations:
        click.echo("No organisation is configured, so there is no demo token (add one under organisations:).")
        return
    organisation = find_organisation(settings.organisations[0].slug)
    base_url = settings.public_url + "/scim/v2"
    existing = tokens.find_named(tenant_of(organisation), DEMO_NAME)
    if existing is not None:
        click.echo(f"A demo token for {organisation.slug} exists already (id {existing.id}); it was shown once, "
                   f"when it was created.\nMake another with: ally-scim token create --org {organisation.slug} "
                   f"--name {DEMO_NAME}\nSCIM base URL: {base_url}")
        return
    with write_transaction():
        _, plaintext = tokens.create_token(tenant_of(organisation), name=DEMO_NAME)
    click.echo(f"SCIM base URL: {base_url}\n"
               f"Bearer token for {organisation.slug} (shown only now; keep it secret): {plaintext}\n"
               f"Try it:\n  curl -H \"Authorization: Bearer {plaintext}\" {base_url}/ServiceProviderConfig")
