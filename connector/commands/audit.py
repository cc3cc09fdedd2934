"""`ally-scim audit`: the organisation's audit trail, oldest first."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from connector.clock import isoformat
from connector.commands import echo_json, with_app
from connector.models import AuditEvent
from connector.organisations import find_organisation


class IsoMoment(click.ParamType):
    """An ISO 8601 date or time; one with an offset is turned into naive UTC."""

    name = "ISO-8601"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date or time (e.g. 2024-05-01 or 2024-05-01T09:30:00Z)",
                      param, ctx)
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        return moment


@click.command("audit")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.option("--since", type=IsoMoment(), help="Only events at or after this UTC time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per event.")
@with_app
def audit_command(org_name, since, as_json):
    """Show who changed what in ORG, and when."""
    query = AuditEvent.select().where(AuditEvent.organisation == find_organisation(org_name))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    events = [_event(event) for event in query.order_by(AuditEvent.at, AuditEvent.id)]
    if as_json:
        echo_json(events)
        return
    for event in events:
        target = event["target_label"] or event["target_id"] or "-"
        changes = json.dumps(event["changes"], sort_keys=True) if event["changes"] else ""
        click.echo(f"{event['at']}\t{event['actor']}\t{event['action']}\t{target}\t{changes}".rstrip())


def _event(event: AuditEvent) -> dict:
    return {"id": event.id, "at": isoformat(event.at), "actor": event.actor, "action": event.action,
            "target_type": event.target_type, "target_id": event.target_id, "target_label": event.target_label,
            "changes": event.changes, "request_id": event.request_id}
