"""`ally-scim audit`: the organisation's audit trail, oldest first, with filters; and
`ally-scim audit prune`, which applies the retention period."""
from __future__ import annotations

import json
from datetime import datetime

import click

from connector import audit
from connector.clock import parse_moment
from connector.commands import DAYS, echo_json, with_app
from connector.organisations import find_organisation

LISTING_OPTIONS = ("org_name", "since", "user", "action", "as_json")


class IsoMoment(click.ParamType):
    """An ISO 8601 date or time; one with an offset is turned into naive UTC."""

    name = "ISO-8601"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(value)
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date or time (e.g. 2024-05-01 or 2024-05-01T09:30:00Z)",
                      param, ctx)


@click.group("audit", invoke_without_command=True)
@click.option("--org", "org_name", help="Organisation name or slug (required to list events).")
@click.option("--since", type=IsoMoment(), help="Only events at or after this UTC time.")
@click.option("--user", metavar="EMAIL", help="Only events about this user (email, userName or id).")
@click.option("--action", metavar="A", help='Only this action ("user.created"), or a family ("user." or "user").')
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per event.")
@click.pass_context
def audit_group(ctx, **listing):
    """Show who changed what in ORG, and when (oldest first). `audit prune` deletes old events."""
    if ctx.invoked_subcommand is not None:
        given = [f"--{name.removesuffix('_name').replace('as_', '')}" for name in LISTING_OPTIONS if listing[name]]
        if given:
            raise click.UsageError(f"{', '.join(given)} list events; `audit {ctx.invoked_subcommand}` does not take them")
        return
    if not listing["org_name"]:
        raise click.UsageError("Missing option '--org'.")
    ctx.invoke(_show, **listing)


@with_app
def _show(org_name, since, user, action, as_json):
    events = [audit.as_dict(event) for event in
              audit.events_query(find_organisation(org_name), since=since, user=user, action=action)]
    if as_json:
        echo_json(events)
        return
    for event in events:
        target = event["target_label"] or event["target_id"] or "-"
        changes = json.dumps(event["changes"], sort_keys=True) if event["changes"] else ""
        click.echo(f"{event['at']}\t{event['actor']}\t{event['action']}\t{target}\t{changes}".rstrip())


@audit_group.command("prune")
@click.option("--older-than", type=DAYS, metavar="DAYS",
              help="Delete events older than this many days (default: audit.retention_days).")
@with_app
def prune(older_than):
    """Delete audit events older than the retention period, in every organisation."""
    click.echo(prune_message(older_than))


def prune_message(older_than: int | None) -> str:
    """Prune with the given or configured retention; what happened, in words."""
    from flask import current_app

    days = older_than or current_app.config["ALLY_SETTINGS"].audit.retention_days
    deleted = audit.prune(days)
    return f"audit: {deleted} event{'s' * (deleted != 1)} older than {days} days deleted"
