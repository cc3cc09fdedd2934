"""`ally-scim objectives`: the hooks the OKR side uses for objective ownership."""
from __future__ import annotations

import click

from connector import objectives
from connector.commands import with_app
from connector.directory import find_user
from connector.organisations import find_organisation


@click.group("objectives")
def objectives_group():
    """Objectives and their owners."""


@objectives_group.command("add")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.option("--owner", required=True, metavar="EMAIL", help="The owner's email, userName or id.")
@click.argument("title")
@with_app
def add(org_name, owner, title):
    """Create an objective called TITLE owned by OWNER."""
    org = find_organisation(org_name)
    objective = objectives.add_objective(org, find_user(org, owner), title)
    click.echo(f"objective {objective.id} created, owned by {objective.owner.user_name}")


@objectives_group.command("reassign")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.option("--from", "from_user", required=True, metavar="EMAIL",
              help="The current owner's email, userName or id (may be pending deletion).")
@click.option("--to", "to_user", required=True, metavar="EMAIL", help="The new owner's email, userName or id.")
@with_app
def reassign(org_name, from_user, to_user):
    """Give every objective of one user to another (then `users purge` can delete the first)."""
    org = find_organisation(org_name)
    source = find_user(org, from_user, include_pending=True)
    target = find_user(org, to_user)
    count = objectives.reassign_objectives(org, source, target)
    click.echo(f"{count} objective{'s' * (count != 1)} reassigned from {source.user_name} to {target.user_name}")
