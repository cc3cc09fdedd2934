"""`ally-scim audit` filters (--user, --action, --since, --json) and retention (`audit prune`,
and `init`, which prunes with audit.retention_days)."""
import json
from datetime import timedelta

import pytest

from connector import audit, deletion, directory, teams
from connector.clock import utcnow
from connector.db import insert_rows
from connector.models import AuditEvent


def listed(cli, *args) -> list[dict]:
    result = cli("audit", "--org", "acme", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def actions(cli, *args) -> list[tuple[str, str]]:
    return [(event["action"], event["target_label"]) for event in listed(cli, *args)]


@pytest.fixture
def history(org, make_user):
    ann = make_user("ann@acme.example")
    bob = make_user("bob@outside.example")
    team = teams.create_team(org, "Sales")
    teams.add_members(team, [ann.id, bob.id])
    directory.update_user(ann, {"user_name": "ann.lee@acme.example"})  # renamed: found by id
    deletion.delete_user(bob)  # gone: found by the userName its events recorded
    audit.record("team.memberXadded", organisation=org, target_type="team")  # "_" is no wildcard
    return ann, bob


def test_user_filter_by_email_username_or_id(cli, history):
    ann, bob = history
    about_ann = [("user.created", "ann@acme.example"), ("team.member_added", "ann@acme.example"),
                 ("user.updated", "ann.lee@acme.example")]
    assert actions(cli, "--user", "ANN@acme.example") == about_ann  # the email, which did not change
    assert actions(cli, "--user", "ann.lee@acme.example") == about_ann
    assert actions(cli, "--user", ann.id) == about_ann
    assert actions(cli, "--user", "bob@outside.example") == [
        ("user.created", "bob@outside.example"), ("user.invited", "bob@outside.example"),
        ("team.member_added", "bob@outside.example"), ("user.deleted", "bob@outside.example")]
    assert actions(cli, "--user", "nobody@acme.example") == []


@pytest.mark.parametrize("action, expected", [
    ("user.created", ["user.created", "user.created"]),
    ("user.", ["user.created", "user.created", "user.invited", "user.updated", "user.deleted"]),
    ("user", ["user.created", "user.created", "user.invited", "user.updated", "user.deleted"]),
    ("user.*", ["user.created", "user.created", "user.invited", "user.updated", "user.deleted"]),
    ("team.member_*", ["team.member_added", "team.member_added"]),
    ("team.member_added", ["team.member_added", "team.member_added"]),
    ("team", ["team.created", "team.member_added", "team.member_added", "team.memberXadded"]),
    ("nothing.here", []),
])
def test_action_filter_exact_family_or_prefix(cli, history, action, expected):
    assert [event["action"] for event in listed(cli, "--action", action)] == expected


def test_filters_combine_with_since_and_text_output(cli, org, history):
    ann, _ = history
    AuditEvent.update(at=utcnow() - timedelta(days=3)).where(AuditEvent.action == "user.created").execute()
    since = (utcnow() - timedelta(days=1)).isoformat() + "Z"
    assert actions(cli, "--user", "ann@acme.example", "--action", "user", "--since", since) == [
        ("user.updated", "ann.lee@acme.example")]
    text = cli("audit", "--org", "acme", "--user", ann.id, "--action", "team.").output.splitlines()
    assert len(text) == 1 and text[0].endswith('\tsystem\tteam.member_added\tann@acme.example\t{"team": [null, "Sales"]}')


def test_listing_needs_org_and_prune_takes_no_listing_options(cli, org):
    missing = cli("audit")
    assert missing.exit_code == 2 and "Missing option '--org'." in missing.stderr
    mixed = cli("audit", "--org", "acme", "--json", "prune")
    assert mixed.exit_code == 2
    assert "--org, --json list events; `audit prune` does not take them" in mixed.stderr
    assert cli("audit", "prune", "--older-than", "0").exit_code == 2
    for moment in ("yesterday", "0001-01-01T00:00:00+01:00"):  # the second is before year 1 in UTC
        refused = cli("audit", "--org", "acme", "--since", moment)
        assert refused.exit_code == 2 and f"{moment!r} is not an ISO 8601 date or time" in refused.stderr


def age(days: int, count: int = 1, **fields) -> None:
    insert_rows(AuditEvent, [{"actor": "cli", "action": "user.updated", "at": utcnow() - timedelta(days=days),
                              **fields} for _ in range(count)])


def test_prune_deletes_old_events_of_every_organisation_and_records_it(cli, org):
    age(40, organisation=org.id)
    age(400, count=audit.PRUNE_BATCH + 3, organisation=org.id)  # more than one batch
    age(400)  # an event of no organisation
    age(10, organisation=org.id)
    result = cli("audit", "prune", "--older-than", "30")
    assert result.output == f"audit: {audit.PRUNE_BATCH + 5} events older than 30 days deleted\n"
    assert AuditEvent.select().where(AuditEvent.at < utcnow() - timedelta(days=30)).count() == 0
    pruned = AuditEvent.get(AuditEvent.action == "audit.pruned")
    assert (pruned.actor, pruned.organisation_id) == ("cli", None)
    assert pruned.changes["events"] == [audit.PRUNE_BATCH + 5, None]
    assert cli("audit", "prune", "--older-than", "30").output == "audit: 0 events older than 30 days deleted\n"
    assert AuditEvent.select().where(AuditEvent.action == "audit.pruned").count() == 1


@pytest.fixture
def short_retention(config_data):
    config_data["audit"] = {"retention_days": 20}


def test_prune_and_init_use_the_configured_retention(short_retention, cli, org):
    age(25, organisation=org.id)
    age(15, organisation=org.id)
    assert cli("audit", "prune").output == "audit: 1 event older than 20 days deleted\n"
    age(21, organisation=org.id)
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert "audit: 1 event older than 20 days deleted\n" in result.output
    assert AuditEvent.select().where(AuditEvent.action == "user.updated").count() == 1
