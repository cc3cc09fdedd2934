"""Teams and sub-teams: names unique per organisation (case-insensitively), a hierarchy with
no cycles, members added and removed idempotently; removing a member or deleting a team
never deletes a user."""
import pytest

from connector import teams
from connector.errors import DuplicateTeam, InvalidTeamName, MemberNotFound, NotFound, ParentTeamNotFound, TeamCycle
from connector.models import AuditEvent, Membership, Team, User
from connector.organisations import create_organisation


def test_create_team_and_duplicate_names(org):
    sales = teams.create_team(org, "  Sales ")
    assert (sales.name, sales.name_key) == ("Sales", "sales")
    with pytest.raises(DuplicateTeam) as caught:
        teams.create_team(org, "SALES")
    assert caught.value.message == "A team named 'SALES' already exists"
    other = create_organisation("Globex")
    assert teams.create_team(other, "Sales").organisation_id == other.id


def test_team_needs_a_name(org):
    with pytest.raises(InvalidTeamName) as caught:
        teams.create_team(org, " ")
    assert caught.value.message == "A team needs a name"


def test_rename_keeps_names_unique(org):
    sales, support = teams.create_team(org, "Sales"), teams.create_team(org, "Support")
    with pytest.raises(DuplicateTeam):
        teams.rename_team(support, "sales")
    teams.rename_team(sales, "Sales EMEA")
    assert Team.get_by_id(sales.id).name_key == "sales emea"
    teams.rename_team(sales, "SALES EMEA")
    assert Team.get_by_id(sales.id).version == 3
    assert AuditEvent.select().where(AuditEvent.action == "team.renamed").count() == 2


def test_sub_teams_and_cycles(org):
    company = teams.create_team(org, "Company")
    eng = teams.create_team(org, "Engineering", parent=company)
    backend = teams.create_team(org, "Backend", parent=eng.id)
    assert Team.get_by_id(backend.id).parent_id == eng.id
    with pytest.raises(TeamCycle) as caught:
        teams.set_parent(company, backend)
    assert caught.value.message == ("'Backend' cannot be the parent team of 'Company': "
                                    "it is 'Company' itself or one of its sub-teams")
    with pytest.raises(TeamCycle):
        teams.set_parent(eng, eng)
    teams.set_parent(backend, None)
    assert Team.get_by_id(backend.id).parent_id is None


def test_parent_from_another_organisation_is_refused(org):
    foreign = teams.create_team(create_organisation("Globex"), "Theirs")
    with pytest.raises(ParentTeamNotFound) as caught:
        teams.create_team(org, "Ours", parent=foreign)
    assert caught.value.message == f"The parent team {foreign.id!r} is not a team of this organisation"


def test_add_and_remove_members_are_idempotent(org, make_user):
    ann, bob = make_user("ann@acme.example"), make_user("bob@acme.example")
    team = teams.create_team(org, "Ops")
    assert teams.add_members(team, [ann.id, bob.id, ann.id]) == [ann.id, bob.id]
    assert teams.add_members(team, [ann.id]) == []
    assert sorted(teams.member_ids(team)) == sorted([ann.id, bob.id])
    assert teams.remove_members(team, [ann.id, "not-a-member"]) == [ann.id]
    assert teams.remove_members(team, [ann.id]) == []
    assert teams.member_ids(team) == [bob.id]
    assert User.get_by_id(ann.id).status == "active"  # removing a member never deletes the user
    actions = [(e.action, e.target_label, e.changes) for e in AuditEvent.select()
               .where(AuditEvent.action.startswith("team.member")).order_by(AuditEvent.id)]
    assert actions == [("team.member_added", "ann@acme.example", {"team": [None, "Ops"]}),
                       ("team.member_added", "bob@acme.example", {"team": [None, "Ops"]}),
                       ("team.member_removed", "ann@acme.example", {"team": ["Ops", None]})]


def test_add_members_refuses_unknown_and_foreign_users(org, make_user):
    stranger = make_user("x@globex.example", organisation=create_organisation("Globex"))
    ann = make_user("ann@acme.example")
    team = teams.create_team(org, "Ops")
    with pytest.raises(MemberNotFound) as caught:
        teams.add_members(team, [ann.id, stranger.id])
    assert caught.value.message == f"No user with the id {stranger.id} in this organisation"
    assert teams.member_ids(team) == []


def test_replace_members(org, make_user):
    ann, bob, cy = (make_user(f"{n}@acme.example") for n in ("ann", "bob", "cy"))
    team = teams.create_team(org, "Ops")
    teams.add_members(team, [ann.id, bob.id])
    added, removed = teams.replace_members(team, [bob.id, cy.id])
    assert (added, removed) == ([cy.id], [ann.id])
    assert sorted(teams.member_ids(team)) == sorted([bob.id, cy.id])


def test_delete_team_keeps_users_and_lifts_sub_teams(org, make_user):
    ann = make_user("ann@acme.example")
    parent = teams.create_team(org, "Parent")
    child = teams.create_team(org, "Child", parent=parent)
    teams.add_members(parent, [ann.id])
    teams.delete_team(parent)
    assert Team.get_or_none(Team.id == parent.id) is None
    assert Membership.select().count() == 0
    assert User.get_by_id(ann.id).status == "active"
    assert Team.get_by_id(child.id).parent_id is None
    event = AuditEvent.get(AuditEvent.action == "team.deleted")
    assert event.changes == {"members": [1, None], "name": ["Parent", None]}


def test_find_and_get_team(org):
    team = teams.create_team(org, "Design")
    assert teams.find_team(org, "design").id == team.id
    assert teams.get_team(org, team.id).id == team.id
    with pytest.raises(NotFound):
        teams.get_team(create_organisation("Globex"), team.id)


def test_update_team_external_id(org):
    team = teams.create_team(org, "Design", external_id="okta-1")
    teams.update_team(team, {"external_id": "okta-2"})
    assert AuditEvent.get(AuditEvent.action == "team.updated").changes == {"external_id": ["okta-1", "okta-2"]}


def test_members_and_teams_of_a_user(org, make_user):
    bob, ann = make_user("bob@acme.example"), make_user("Ann@acme.example")
    ops, dev = teams.create_team(org, "Ops"), teams.create_team(org, "dev")
    teams.add_members(ops, [bob.id, ann.id])
    teams.add_members(dev, [bob.id])
    assert teams.members(ops) == [(ann.id, "Ann@acme.example"), (bob.id, "bob@acme.example")]
    assert teams.teams_of(bob) == [(dev.id, "dev"), (ops.id, "Ops")]
    assert [t.name for t in teams.teams_query(org).order_by(Team.name_key)] == ["dev", "Ops"]


def test_over_long_team_name_is_refused(org):
    from connector.errors import InvalidValue

    with pytest.raises(InvalidValue) as caught:
        teams.create_team(org, "n" * 256)
    assert caught.value.message == "name is longer than 255 characters"
