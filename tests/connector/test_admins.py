"""Admin privileges: "Make Admin" (granted directly) and membership of a group named in the
organisation's admin_groups (case-insensitive), which lasts while the user is a member."""
from connector import admins, teams
from connector.models import AuditEvent, User
from connector.organisations import update_organisation


def test_grant_and_revoke_admin(org, make_user):
    user = make_user("ann@acme.example")
    assert not admins.is_effective_admin(user)
    admins.grant_admin(user)
    assert User.get_by_id(user.id).is_admin and admins.is_effective_admin(user)
    admins.revoke_admin(user)
    assert not admins.is_effective_admin(User.get_by_id(user.id))
    assert [(e.action, e.changes) for e in AuditEvent.select().where(AuditEvent.target_id == user.id)
            .where(AuditEvent.action.startswith("user.admin")).order_by(AuditEvent.id)] == [
        ("user.admin_granted", {"is_admin": [False, True]}), ("user.admin_revoked", {"is_admin": [True, False]})]


def test_admin_group_membership_grants_while_member(org, make_user):
    user = make_user("bob@acme.example")
    group = teams.create_team(org, "ally admins")  # config says "Ally Admins"
    teams.add_members(group, [user.id])
    assert admins.is_effective_admin(user)
    assert not User.get_by_id(user.id).is_admin  # computed, not stored
    teams.remove_members(group, [user.id])
    assert not admins.is_effective_admin(user)
    events = [(e.action, e.changes) for e in AuditEvent.select().where(AuditEvent.target_id == user.id)
              .where(AuditEvent.action.startswith("user.admin")).order_by(AuditEvent.id)]
    assert events == [("user.admin_granted", {"admin": [False, True], "admin_group": [None, "ally admins"]}),
                      ("user.admin_revoked", {"admin": [True, False], "admin_group": ["ally admins", None]})]


def test_leaving_the_group_keeps_admin_granted_another_way(org, make_user):
    direct, other_group = make_user("cy@acme.example"), make_user("di@acme.example")
    update_organisation(org, admin_groups=["Ally Admins", "IT"])
    admins_team, it_team = teams.create_team(org, "Ally Admins"), teams.create_team(org, "IT")
    admins.grant_admin(direct)
    teams.add_members(admins_team, [direct.id, other_group.id])
    teams.add_members(it_team, [other_group.id])
    teams.remove_members(admins_team, [direct.id, other_group.id])
    assert admins.is_effective_admin(direct) and admins.is_effective_admin(other_group)
    assert AuditEvent.select().where(AuditEvent.action == "user.admin_revoked").count() == 0


def test_deleting_the_admin_group_ends_its_grants(org, make_user):
    user = make_user("eve@acme.example")
    group = teams.create_team(org, "Ally Admins")
    teams.add_members(group, [user.id])
    teams.delete_team(group)
    assert not admins.is_effective_admin(user)
    assert User.get_by_id(user.id).status == "active"
    assert AuditEvent.select().where(AuditEvent.action == "user.admin_revoked").count() == 1


def test_renaming_a_team_into_an_admin_group_grants(org, make_user):
    user = make_user("fay@acme.example")
    team = teams.create_team(org, "Leadership")
    teams.add_members(team, [user.id])
    teams.rename_team(team, "Ally Admins")
    assert admins.is_effective_admin(user)
    teams.rename_team(team, "Leadership")
    assert not admins.is_effective_admin(user)
    assert [e.action for e in AuditEvent.select().where(AuditEvent.action.startswith("user.admin"))
            .order_by(AuditEvent.id)] == ["user.admin_granted", "user.admin_revoked"]


def test_admin_expression_for_many_users_at_once(org, make_user):
    direct, member, plain = make_user("g@acme.example"), make_user("h@acme.example"), make_user("i@acme.example")
    admins.grant_admin(direct)
    teams.add_members(teams.create_team(org, "Ally Admins"), [member.id])
    query = User.select(User.user_name).where((User.organisation == org) & admins.admin_expression(org))
    assert sorted(u.user_name for u in query) == ["g@acme.example", "h@acme.example"]
    assert admins.effective_admin_ids(org, [direct.id, member.id, plain.id]) == {direct.id, member.id}


def test_no_admin_groups_means_direct_grants_only(org, make_user):
    update_organisation(org, admin_groups=[])
    user = make_user("j@acme.example")
    teams.add_members(teams.create_team(org, "Ally Admins"), [user.id])
    assert not admins.is_effective_admin(user)
