"""`ally-scim users`: the organisation's users as Ally admins see them, the purge of users
pending deletion, and the accounts offboarding in the IdP would miss."""
from __future__ import annotations

from collections import Counter

import click

from connector import admins, deletion, directory, listings, unmanaged
from connector.commands import DAYS, echo_json, with_app
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


@users_group.command("make-admin")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.argument("user")
@with_app
def make_admin(org_name, user):
    """Grant USER (email, userName or id) Ally admin rights ("Make Admin")."""
    target = directory.find_user(find_organisation(org_name), user)
    admins.grant_admin(target)
    click.echo(f"{target.user_name} is an admin")


@users_group.command("remove-admin")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.argument("user")
@with_app
def remove_admin(org_name, user):
    """Remove the admin rights granted to USER by hand; membership of an admin group still counts."""
    target = directory.find_user(find_organisation(org_name), user)
    admins.revoke_admin(target)
    still = admins.is_effective_admin(target)
    click.echo(f"{target.user_name} is {'still an admin through an admin group' if still else 'no longer an admin'}")


@users_group.command("unmanaged")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.option("--stale-days", type=DAYS, default=90, show_default=True, metavar="N",
              help="Also list IdP-managed users the IdP has not changed for N days (or ever).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per user, with reason and detail.")
@with_app
def unmanaged_command(org_name, stale_days, as_json):
    """List the active and invited users offboarding in the IdP would miss."""
    org = find_organisation(org_name)
    rows = unmanaged.unmanaged_rows(org, stale_days)
    if as_json:
        echo_json(rows)
        return
    counts = Counter(row["reason"] for row in rows)
    click.echo(f"{org.name}: {len(rows)} account{'s' * (len(rows) != 1)} that offboarding in the IdP would miss: "
               f"{counts[unmanaged.NOT_MANAGED]} not provisioned by an IdP, "
               f"{counts[unmanaged.STALE] + counts[unmanaged.NEVER_SEEN]} not changed by the IdP for {stale_days} days "
               f"({counts[unmanaged.NEVER_SEEN]} never)")
    for row in rows:
        click.echo(f"{row['userName']}\t{row['status']}\t{row['detail']}")


def _status(row: dict) -> str:
    return "pending-deletion" if row["pending_deletion"] else row["status"]
