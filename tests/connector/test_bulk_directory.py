"""The directory's bulk paths (create_users, set_managers) apply exactly the one-user rules, and
cost a fixed number of statements per batch, not per user."""
import pytest
from playhouse.test_utils import count_queries

from connector import directory, hierarchy, managers, outbox
from connector.db import insert_rows, refresh_statistics
from connector.errors import AccountSuspended, DuplicateUser, ManagerCycle, ManagerNotFound, OutsideDomain
from connector.models import AuditEvent, Invitation, OutboxMessage, Team, User, UserValue
from connector.organisations import update_organisation


def person(address: str, **attrs):
    return {"user_name": address, **attrs}, {"emails": [{"value": address, "type": "work", "primary": True}]}


def test_create_users_follows_the_one_user_rules(org):
    ann, bob = directory.create_users(org, [person("ann@acme.example", title="Lead"), person("bob@outside.example")])
    assert (ann.status, ann.title, ann.joined_at is not None) == ("active", "Lead", True)
    assert (bob.status, bob.joined_at) == ("invited", None)
    stored = {user.user_name: user for user in User.select()}
    assert (stored["ann@acme.example"].email_key, stored["bob@outside.example"].status) == ("ann@acme.example",
                                                                                          "invited")
    assert UserValue.select().count() == 2
    assert [i.user_id for i in Invitation.select()] == [bob.id]
    assert OutboxMessage.get().recipient == "bob@outside.example"
    actions = [(e.action, e.target_label) for e in AuditEvent.select().where(AuditEvent.target_type == "user")
               .order_by(AuditEvent.id)]
    assert actions == [("user.created", "ann@acme.example"), ("user.created", "bob@outside.example"),
                       ("user.invited", "bob@outside.example")]
    created = AuditEvent.get(AuditEvent.target_id == ann.id)
    assert created.changes["status"] == [None, "active"] and created.changes["title"] == [None, "Lead"]


@pytest.mark.parametrize("second, text", [
    ("ANN@acme.example", "A user with the userName 'ANN@acme.example' already exists"),
    ("taken@acme.example", "A user with the userName 'taken@acme.example' already exists"),
    ("gone@acme.example", "This account has been suspended"),
])
def test_one_refusal_refuses_the_whole_batch(org, make_user, second, text):
    make_user("taken@acme.example")
    directory.suspend(make_user("gone@acme.example"))
    before = (User.select().count(), AuditEvent.select().count())
    with pytest.raises((DuplicateUser, AccountSuspended)) as caught:
        directory.create_users(org, [person("ann@acme.example"), person(second), person("cy@acme.example")])
    assert caught.value.message == text
    assert (User.select().count(), AuditEvent.select().count()) == before


def test_outside_domain_policy_refuses_the_batch(org):
    update_organisation(org, outside_domains="reject")
    with pytest.raises(OutsideDomain):
        directory.create_users(org, [person("ann@acme.example"), person("bob@outside.example")])
    assert User.select().count() == 0


def test_creation_conflicts_names_every_refused_pair(org, make_user):
    make_user("taken@acme.example")
    conflicts = directory.creation_conflicts(org, [("new@acme.example", "new@acme.example"),
                                                   ("Taken@acme.example", None),
                                                   ("other", "NEW@acme.example")])
    assert {index: error.message for index, error in conflicts.items()} == {
        1: "A user with the userName 'Taken@acme.example' already exists",
        2: "A user with the email 'NEW@acme.example' already exists"}


def statements(action) -> int:
    with count_queries() as counted:
        action()
    return counted.count


def test_create_users_costs_the_same_statements_for_few_and_many(org):
    few = statements(lambda: directory.create_users(org, [person(f"f{i}@outside.example") for i in range(2)]))
    many = statements(lambda: directory.create_users(org, [person(f"m{i}@outside.example") for i in range(40)]))
    assert few == many
    assert Invitation.select().count() == OutboxMessage.select().count() == 42


def test_set_managers_in_one_batch(org, make_user):
    boss, ann, bob = (make_user(f"{name}@acme.example") for name in ("boss", "ann", "bob"))
    managers.set_manager(boss, ann)  # ann manages boss for now
    ann, boss = User.get_by_id(ann.id), User.get_by_id(boss.id)
    # ann's manager becomes boss while boss loses ann: no loop once both links are made
    changed = managers.set_managers([(boss, None), (ann, boss), (bob, ann.id)])
    assert [(u.manager_id, u.version) for u in changed] == [(None, 3), (boss.id, 2), (ann.id, 2)]
    assert [(u.manager_id, u.version) for u in (User.get_by_id(i) for i in (boss.id, ann.id, bob.id))] == [
        (None, 3), (boss.id, 2), (ann.id, 2)]
    events = [e.changes["manager"] for e in AuditEvent.select().where(AuditEvent.action == "user.manager_changed")
              .order_by(AuditEvent.id)][1:]
    assert events == [["ann@acme.example", None], [None, "boss@acme.example"], [None, "ann@acme.example"]]


def test_set_managers_refuses_loops_and_unknown_managers_and_changes_nothing(org, make_user):
    ann, bob, cy = (make_user(f"{name}@acme.example") for name in ("ann", "bob", "cy"))
    with pytest.raises(ManagerCycle) as caught:
        managers.set_managers([(ann, bob), (bob, cy), (cy, ann)])
    assert caught.value.message == ("bob@acme.example cannot be the manager of ann@acme.example: "
                                    "ann@acme.example is already above bob@acme.example in the management chain")
    with pytest.raises(ManagerNotFound):
        managers.set_managers([(ann, bob), (cy, "no-such-id")])
    assert [u.manager_id for u in User.select()] == [None, None, None]


def test_set_managers_costs_the_same_statements_for_few_and_many(org, make_user):
    boss = make_user("boss@acme.example")
    users = directory.create_users(org, [person(f"u{i}@acme.example") for i in range(40)])
    few = statements(lambda: managers.set_managers([(user, boss) for user in users[:2]]))
    many = statements(lambda: managers.set_managers([(user, boss) for user in users[2:]]))
    assert few == many
    assert User.select().where(User.manager == boss.id).count() == 40


def test_first_loop_stops_on_a_loop_already_stored(org):
    a, b, c = (Team.create(organisation=org, name=n, name_key=n) for n in "abc")
    Team.update(parent=b.id).where(Team.id == a.id).execute()
    Team.update(parent=a.id).where(Team.id == b.id).execute()  # an old loop a <-> b
    assert hierarchy.first_loop(Team, Team.parent, {c.id: a.id}) is None
    assert hierarchy.first_loop(Team, Team.parent, {c.id: a.id, a.id: c.id}) in (c.id, a.id)
    assert hierarchy.first_loop(Team, Team.parent, {c.id: c.id}) == c.id


def test_insert_rows_fills_defaults_and_converts_values(org):
    outbox.enqueue_many([{"recipient": f"r{i}@outside.example", "subject": "Hi", "body": "...", "kind": "invitation",
                          "organisation": org} for i in range(3)])
    messages = list(OutboxMessage.select().order_by(OutboxMessage.id))
    assert [(m.status, m.attempts, m.organisation_id) for m in messages] == [("pending", 0, org.id)] * 3
    assert all(m.next_attempt_at is not None and m.created_at is not None for m in messages)
    insert_rows(AuditEvent, [{"actor": "cli", "action": "x.y", "changes": {"a": [1, 2]}}])
    assert AuditEvent.get(AuditEvent.action == "x.y").changes == {"a": [1, 2]}
    insert_rows(AuditEvent, [])
    refresh_statistics(User, AuditEvent)  # runs on both databases
