"""Objective ownership hooks: add an objective for an owner, hand a user's objectives to
another (the way out of pending deletion)."""
import pytest

from connector import deletion
from connector.errors import InvalidValue, NotFound
from connector.models import AuditEvent, Objective, User
from connector.objectives import add_objective, reassign_objectives
from connector.organisations import create_organisation


def test_add_objective_and_audit(org, make_user):
    owner = make_user("ann@acme.example")
    objective = add_objective(org, owner, "  Double NPS ")
    assert (objective.title, objective.owner_id) == ("Double NPS", owner.id)
    event = AuditEvent.get(AuditEvent.action == "objective.created")
    assert (event.target_label, event.changes) == ("Double NPS", {"owner": [None, "ann@acme.example"]})


def test_a_long_title_is_cut_short_in_the_audit_trail(org, make_user):
    """An objective's title may be 500 characters, an audit label 320 (on PostgreSQL a 500)."""
    objective = add_objective(org, make_user("ann@acme.example"), "t" * 500)
    event = AuditEvent.get(AuditEvent.action == "objective.created")
    assert event.target_label == "t" * 319 + "\u2026" and event.target_id == str(objective.id)


def test_add_objective_refusals(org, make_user):
    owner = make_user("ann@acme.example")
    with pytest.raises(InvalidValue) as caught:
        add_objective(org, owner, " ")
    assert caught.value.message == "An objective needs a title"
    other = create_organisation("Globex")
    with pytest.raises(NotFound):
        add_objective(other, owner, "Theirs")


def test_reassign_moves_every_objective(org, make_user):
    ann, bob = make_user("ann@acme.example"), make_user("bob@acme.example")
    for title in ("A", "B"):
        add_objective(org, ann, title)
    assert reassign_objectives(org, ann, bob) == 2
    assert Objective.select().where(Objective.owner == bob).count() == 2
    event = AuditEvent.get(AuditEvent.action == "objectives.reassigned")
    assert event.changes == {"objectives_reassigned": [None, 2], "owner": ["ann@acme.example", "bob@acme.example"]}


def test_reassign_to_a_pending_deletion_user_or_oneself_is_refused(org, make_user):
    ann, bob = make_user("ann@acme.example"), make_user("bob@acme.example")
    add_objective(org, ann, "A")
    add_objective(org, bob, "B")
    deletion.scim_delete_user(bob)
    with pytest.raises(NotFound):
        reassign_objectives(org, ann, User.get_by_id(bob.id))
    with pytest.raises(InvalidValue) as caught:
        reassign_objectives(org, ann, ann)
    assert caught.value.message == "The objectives already belong to that user"
