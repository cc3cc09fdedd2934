"""`ally-scim teams`: the organisation's teams, sub-teams and members."""
from __future__ import annotations

import click

from connector import listings
from connector.commands import echo_json, with_app
from connector.organisations import find_organisation


@click.group("teams")
def teams_group():
    """Teams of an organisation."""


@teams_group.command("list")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: id, name, parent, members.")
@with_app
def list_(org_name, as_json):
    """List teams as a tree, with their member counts."""
    rows = listings.team_rows(find_organisation(org_name))
    if as_json:
        echo_json(rows)
        return
    children: dict = {}
    for row in rows:
        children.setdefault(row["parent"], []).append(row)
    _print_tree(children, None, 0)


def _print_tree(children: dict, parent, depth: int) -> None:
    for row in children.get(parent, []):
        click.echo(f"{'  ' * depth}{row['name']} ({len(row['members'])} members)")
        _print_tree(children, row["name"], depth + 1)
