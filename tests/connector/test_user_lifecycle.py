"""Status transitions (DESIGN.md §3): invited -> active by the join link; suspend ("Deactivate")
and reactivate ("Make Active"); delete, refused for objective owners with the count; the SCIM
delete that suspends, releases and leaves the user pending deletion; purge."""
import pytest
from playhouse.test_utils import count_queries

from connector import admins, deletion, directory, managers, teams
from connector.errors import AccountSuspended, NotFound, OwnsObjectives
from connector.models import AuditEvent, Invitation, Membership, Objective, User, UserValue
from connector.objectives import add_objective, reassign_objectives
from tests.connector.conftest import join_token


def actions(user_id):
    return [e.action for e in AuditEvent.select().where(AuditEvent.target_id == user_id).order_by(AuditEvent.id)]


def test_invited_user_becomes_active_through_the_join_link(org, make_user):
    user = make_user("ann@outside.example")
    assert (user.status, user.joined_at) == ("invited", None)
    joined = directory.accept_invitation(join_token("ann@outside.example"))
    stored = User.get_by_id(user.id)
    assert joined.id == user.id
    assert stored.status == "active" and stored.joined_at is not None
    assert actions(user.id) == ["user.created", "user.invited", "user.joined"]
    assert AuditEvent.get(AuditEvent.action == "user.joined").actor == "join-link"


def test_active_suspended_active(org, make_user):
    """Ally: a suspended user stays in teams and keeps owning OKRs; Make Active restores them."""
    user = make_user("bea@acme.example")
    team = teams.create_team(org, "Sales")
    teams.add_members(team, [user.id])
    add_objective(org, user, "Grow revenue")
    directory.suspend(user)
    stored = User.get_by_id(user.id)
    assert stored.status == "suspended" and stored.suspended_at is not None
    assert teams.member_ids(team) == [user.id]
    assert Objective.select().where(Objective.owner == user).count() == 1
    directory.reactivate(stored)
    stored = User.get_by_id(user.id)
    assert (stored.status, stored.suspended_at) == ("active", None)
    assert actions(user.id)[-2:] == ["user.suspended", "user.reactivated"]
    assert AuditEvent.get(AuditEvent.action == "user.suspended").changes == {"status": ["active", "suspended"]}


def test_invited_suspended_invited_with_a_fresh_link(org, make_user):
    """Reactivate: "back to active if they had joined, else invited"."""
    user = make_user("cal@outside.example")
    old_token = join_token("cal@outside.example")
    directory.suspend(user)
    with pytest.raises(Exception) as caught:
        directory.accept_invitation(old_token)
    assert caught.value.message == "This invitation link is not valid"
    directory.reactivate(User.get_by_id(user.id))
    stored = User.get_by_id(user.id)
    assert stored.status == "invited"
    new_token = join_token("cal@outside.example")
    assert new_token != old_token
    assert directory.accept_invitation(new_token).status == "active"


def test_suspending_a_user_who_joined_looks_for_no_link(org, make_user):
    """Entra's deprovisioning (PATCH active "False") of a user who joined: only invited users
    hold open links, so no statement goes to the invitations."""
    user = make_user("eve@acme.example")
    assert user.status == "active"
    with count_queries() as counted:
        directory.suspend(user)
    assert User.get_by_id(user.id).status == "suspended"
    assert not [record for record in counted.get_queries() if "invitation" in record.msg[0]]


def test_suspend_and_reactivate_are_idempotent(org, make_user):
    user = make_user("dan@acme.example")
    directory.suspend(user)
    directory.suspend(user)
    directory.reactivate(user)
    directory.reactivate(user)
    assert actions(user.id).count("user.suspended") == 1
    assert actions(user.id).count("user.reactivated") == 1


def test_set_active_maps_scim_active(org, make_user):
    user = make_user("dan@acme.example")
    assert directory.set_active(user, False).status == "suspended"
    assert directory.set_active(user, True).status == "active"


def test_created_inactive_is_suspended_without_invitation(org):
    user = directory.create_user(org, {"user_name": "eve@outside.example"},
                                 values={"emails": [{"value": "eve@outside.example"}]}, active=False)
    assert User.get_by_id(user.id).status == "suspended"
    assert Invitation.select().where(Invitation.user == user).count() == 0


def test_delete_refused_for_objective_owner_names_the_count(org, make_user):
    """Ally: "Admins cannot delete a user if they are the current owner of any objective"."""
    user = make_user("fred@acme.example")
    for title in ("One", "Two", "Three"):
        add_objective(org, user, title)
    with pytest.raises(OwnsObjectives) as caught:
        deletion.delete_user(user)
    assert caught.value.message == "This user owns 3 objectives; reassign them before deleting the user"
    assert User.get_or_none(User.id == user.id) is not None
    owner = make_user("single@acme.example")
    add_objective(org, owner, "Only")
    with pytest.raises(OwnsObjectives) as caught:
        deletion.delete_user(owner)
    assert caught.value.message == "This user owns 1 objective; reassign them before deleting the user"


def test_delete_is_permanent_and_keeps_teams_and_reports(org, make_user):
    """Ally: "After a user is deleted it will appear as though they never existed"."""
    boss, report = make_user("gia@acme.example"), make_user("hugo@acme.example")
    team = teams.create_team(org, "Ops")
    teams.add_members(team, [boss.id, report.id])
    managers.set_manager(report, boss)
    directory.update_user(boss, {}, values={"phoneNumbers": [{"value": "+1 555 0100"}]})
    deletion.delete_user(User.get_by_id(boss.id))
    assert User.get_or_none(User.id == boss.id) is None
    assert UserValue.select().where(UserValue.user == boss.id).count() == 0
    assert Invitation.select().where(Invitation.user == boss.id).count() == 0
    assert teams.member_ids(team) == [report.id]
    assert User.get_by_id(report.id).manager_id is None
    assert "user.deleted" in actions(boss.id)


def test_scim_delete_without_objectives_deletes(org, make_user):
    user = make_user("ines@acme.example")
    assert deletion.scim_delete_user(user) == "deleted"
    assert User.get_or_none(User.id == user.id) is None


def test_scim_delete_of_objective_owner_suspends_releases_and_pends(org, make_user):
    """SCIM DELETE revokes access at once; the owner stays for the admins, out of sight of SCIM
    (RFC 7644 §3.6: "the service provider MUST return a 404 ... for all operations")."""
    user = make_user("jon@acme.example")
    admins.grant_admin(user)
    report = make_user("kim@acme.example")
    managers.set_manager(report, user)
    team = teams.create_team(org, "Support")
    teams.add_members(team, [user.id])
    add_objective(org, user, "Halve response time")
    assert deletion.scim_delete_user(User.get_by_id(user.id)) == "pending_deletion"
    stored = User.get_by_id(user.id)
    assert stored.status == "suspended" and stored.pending_deletion_at is not None
    assert (stored.user_name_key, stored.email_key, stored.is_admin) == (None, None, False)
    assert (stored.user_name, stored.email) == ("jon@acme.example", "jon@acme.example")
    assert teams.member_ids(team) == []
    assert User.get_by_id(report.id).manager_id is None
    with pytest.raises(NotFound):
        directory.get_user(org, user.id)
    with pytest.raises(NotFound):
        directory.suspend(stored)
    # the userName and email are free again
    assert make_user("JON@acme.example").status == "active"
    event = AuditEvent.get(AuditEvent.action == "user.pending_deletion")
    assert event.changes["user_name_key"] == ["jon@acme.example", None]


def test_purge_deletes_pending_users_whose_objectives_were_reassigned(org, make_user):
    leaver, keeper, heir = make_user("lea@acme.example"), make_user("max@acme.example"), make_user("ned@acme.example")
    add_objective(org, leaver, "A")
    add_objective(org, keeper, "B")
    deletion.scim_delete_user(leaver)
    deletion.scim_delete_user(keeper)
    assert deletion.purge(org) == []
    assert reassign_objectives(org, User.get_by_id(leaver.id), heir) == 1
    assert deletion.purge(org) == ["lea@acme.example"]
    assert User.get_or_none(User.id == leaver.id) is None
    assert User.get_by_id(keeper.id).pending_deletion_at is not None
    assert Objective.get(Objective.title == "A").owner_id == heir.id
    assert "user.purged" in actions(leaver.id)


def test_join_link_refused_for_suspended_user(org, make_user):
    """Suspending revokes the user's links; and should a user be suspended by any other path
    with a link still open, the join is refused with Ally's text."""
    user = make_user("olga@outside.example")
    token = join_token("olga@outside.example")
    User.update(status="suspended").where(User.id == user.id).execute()  # a suspension that left the link open
    with pytest.raises(AccountSuspended) as caught:
        directory.accept_invitation(token)
    assert caught.value.message == "This account has been suspended"
    assert Invitation.get(Invitation.user == user).accepted_at is None


def test_deleted_user_has_no_memberships_left(org, make_user):
    user = make_user("pia@acme.example")
    team = teams.create_team(org, "QA")
    teams.add_members(team, [user.id])
    deletion.delete_user(user)
    assert Membership.select().where(Membership.team == team).count() == 0
