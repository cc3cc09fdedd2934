"""`ally-scim users`: the organisation's users as Ally admins see them, and the purge of
users pending deletion."""
from __future__ import annotations

import click

from connector import deletion, listings
from connector.commands import echo_json, with_app
from connector.models import USER_STATUSES
from connector.organisations import find_organisation


@click.group("users")
def users_group():
    """Users of an organisation."""


@users_group.command("list")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.option("--status", type=click.Choice(USER_STATUSES), help="Only users with this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per user.")
@with_app
def list_(org_name, status, as_json):
    """List users: userName, status, admin, email, manager, teams."""
    rows = listings.user_rows(find_organisation(org_name), status)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo("\t".join([row["userName"], _status(row), "admin" if row["admin"] else "-", row["email"] or "-",
                              row["manager"] or "-", ",".join(row["teams"]) or "-"]))


@users_group.command("purge")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@with_app
def purge(org_name):
    """Delete the users pending deletion whose objectives have been reassigned."""
    org = find_organisation(org_name)
    purged = deletion.purge(org)
    for user_name in purged:
        click.echo(f"purged {user_name}")
    for user in deletion.pending_deletion(org):
        count = deletion.owned_objectives(user)
        click.echo(f"still pending deletion: {user.user_name} owns {count} objective{'s' * (count != 1)}; "
                   f"reassign them with `ally-scim objectives reassign --org {org.slug} --from {user.email or user.id} "
                   f"--to EMAIL`")
    if not purged:
        click.echo("nothing to purge")


def _status(row: dict) -> str:
    return "pending-deletion" if row["pending_deletion"] else row["status"]
