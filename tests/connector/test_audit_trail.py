"""Every change writes an audit event: actor, action, target, before/after of the changed
fields, never a secret."""
from connector import admins, audit, deletion, directory, managers, teams
from connector.models import AuditEvent
from connector.objectives import add_objective, reassign_objectives
from connector.organisations import update_organisation
from tests.connector.conftest import join_token


def test_each_kind_of_change_is_audited_with_its_actor(org, make_user):
    with audit.acting_as("token:Okta", request_id="req-1"):
        boss = make_user("boss@acme.example")
        newbie = make_user("new@outside.example")
        directory.update_user(newbie, {"title": "Analyst"})
        managers.set_manager(newbie, boss)
        admins.grant_admin(boss)
        admins.revoke_admin(boss)
        team = teams.create_team(org, "Ops")
        sub = teams.create_team(org, "Ops EU")
        teams.set_parent(sub, team)
        teams.add_members(team, [boss.id])
        teams.remove_members(team, [boss.id])
        teams.rename_team(team, "Operations")
        directory.suspend(newbie)
        directory.reactivate(newbie)
        add_objective(org, boss, "Ship it")
        reassign_objectives(org, boss, newbie)
        deletion.scim_delete_user(newbie)
        deletion.delete_user(boss)
        teams.delete_team(team)
    with audit.acting_as("cli"):
        update_organisation(org, domains=["acme.example", "beta.example"])
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.actor == "token:Okta").order_by(AuditEvent.id)]
    assert actions == [
        "user.created", "user.created", "user.invited", "user.updated", "user.manager_changed",
        "user.admin_granted", "user.admin_revoked", "team.created", "team.created", "team.parent_changed",
        "team.member_added", "team.member_removed", "team.renamed", "user.suspended", "user.reactivated",
        "user.invited", "objective.created", "objectives.reassigned", "user.pending_deletion", "user.deleted",
        "team.parent_changed", "team.deleted"]
    assert {e.request_id for e in AuditEvent.select().where(AuditEvent.actor == "token:Okta")} == {"req-1"}
    org_event = AuditEvent.get(AuditEvent.action == "organisation.updated")
    assert (org_event.actor, org_event.changes) == ("cli", {"domains": [["acme.example"], ["acme.example", "beta.example"]]})


def test_created_event_holds_the_new_values(org, make_user):
    user = make_user("ann@acme.example")
    event = AuditEvent.get(AuditEvent.action == "user.created")
    assert (event.target_type, event.target_id, event.target_label) == ("user", user.id, "ann@acme.example")
    assert event.changes["status"] == [None, "active"]
    assert event.changes["email"] == [None, "ann@acme.example"]
    assert event.organisation_id == org.id


def test_no_secret_reaches_the_audit_trail(org, make_user):
    make_user("bea@outside.example")
    token = join_token("bea@outside.example")
    directory.accept_invitation(token)
    for event in AuditEvent.select():
        assert token not in str(event.changes)
