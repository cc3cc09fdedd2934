"""`ally-scim org`: organisations (Ally instances) and their Signup Mode domains."""
from __future__ import annotations

import click
from peewee import fn

from connector.commands import echo_json, with_app
from connector.models import OUTSIDE_DOMAIN_POLICIES, USER_STATUSES, Organisation, Team, User
from connector.organisations import create_organisation, find_organisation, parse_domains, update_organisation


@click.group("org")
def org_group():
    """Organisations (Ally instances)."""


@org_group.command("create")
@click.argument("name")
@click.option("--domains", default="", metavar="a.com,b.com",
              help="Auto-join work domains, comma-separated (Ally's Signup Mode).")
@click.option("--outside-domains", type=click.Choice(OUTSIDE_DOMAIN_POLICIES), default="invite", show_default=True,
              help="What happens to a provisioned user outside those domains.")
@click.option("--skip-invitations", is_flag=True, help="Invited users get no invitation email.")
@click.option("--admin-groups", default="", metavar='"Ally Admins,IT"',
              help="Teams whose members are Ally admins, comma-separated.")
@with_app
def create(name, domains, outside_domains, skip_invitations, admin_groups):
    """Create an organisation called NAME."""
    org = create_organisation(name, domains=parse_domains(domains), outside_domains=outside_domains,
                              skip_invitations=skip_invitations, admin_groups=_names(admin_groups))
    click.echo(f"organisation {org.slug} created")


@org_group.command("list")
@with_app
def list_():
    """List the organisations: slug, name, auto-join domains."""
    for org in Organisation.select().order_by(Organisation.slug):
        click.echo(f"{org.slug}\t{org.name}\t{','.join(org.domains) or '-'}")


@org_group.command("show")
@click.argument("org")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_app
def show(org, as_json):
    """Show ORG's settings and how many users and teams it has."""
    details = describe(find_organisation(org))
    if as_json:
        echo_json(details)
        return
    for key, value in details.items():
        if isinstance(value, dict):
            value = ", ".join(f"{count} {name}" for name, count in value.items())
        shown = ", ".join(value) if isinstance(value, list) else value
        click.echo(f"{key}: {shown}")


@org_group.command("set-domains")
@click.argument("org")
@click.argument("domains", metavar="a.com,b.com")
@with_app
def set_domains(org, domains):
    """Replace ORG's auto-join work domains (comma-separated; "" for none)."""
    organisation = update_organisation(find_organisation(org), domains=parse_domains(domains))
    click.echo(f"organisation {organisation.slug}: auto-join domains {', '.join(organisation.domains) or '(none)'}")


def describe(org) -> dict:
    counts = dict.fromkeys(USER_STATUSES, 0)
    query = User.select(User.status, fn.COUNT(User.id)).where(User.organisation == org).group_by(User.status)
    counts.update(query.tuples())
    pending = User.select().where((User.organisation == org) & User.pending_deletion_at.is_null(False)).count()
    return {
        "id": org.id, "name": org.name, "slug": org.slug, "domains": list(org.domains),
        "outside_domains": org.outside_domains, "skip_invitations": org.skip_invitations,
        "admin_groups": list(org.admin_groups), "admin_groups_are_teams": org.admin_groups_are_teams,
        "users": counts, "pending_deletion": pending,
        "teams": Team.select().where(Team.organisation == org).count(),
    }


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
