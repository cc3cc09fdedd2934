"""Managers: same organisation only, no cycles, clearing; "designated as managers" derived."""
import pytest

from connector import deletion, managers
from connector.errors import ManagerCycle, ManagerNotFound, NotFound
from connector.models import AuditEvent, User
from connector.organisations import create_organisation


@pytest.fixture
def people(make_user):
    return {name: make_user(f"{name}@acme.example") for name in ("ceo", "vp", "lead", "dev")}


def test_set_and_clear_manager(people):
    dev, lead = people["dev"], people["lead"]
    managers.set_manager(dev, lead)
    assert User.get_by_id(dev.id).manager_id == lead.id
    assert managers.is_designated_manager(lead) and not managers.is_designated_manager(dev)
    managers.set_manager(dev, None)
    assert User.get_by_id(dev.id).manager_id is None
    assert not managers.is_designated_manager(lead)
    changes = [e.changes for e in AuditEvent.select().where(AuditEvent.action == "user.manager_changed")
               .order_by(AuditEvent.id)]
    assert changes == [{"manager": [None, "lead@acme.example"]}, {"manager": ["lead@acme.example", None]}]


def test_manager_by_id_and_unchanged_is_a_no_op(people):
    dev, lead = people["dev"], people["lead"]
    managers.set_manager(dev, lead.id)
    managers.set_manager(dev, lead.id)
    assert User.get_by_id(dev.id).version == 2
    assert AuditEvent.select().where(AuditEvent.action == "user.manager_changed").count() == 1


def test_manager_from_another_organisation_is_refused(org, people, make_user):
    other = create_organisation("Globex")
    stranger = make_user("x@globex.example", organisation=other)
    with pytest.raises(ManagerNotFound) as caught:
        managers.set_manager(people["dev"], stranger)
    assert caught.value.message == f"The manager {stranger.id!r} is not a user of this organisation"
    with pytest.raises(ManagerNotFound):
        managers.set_manager(people["dev"], "no-such-id")


def test_cycles_are_refused(people):
    ceo, vp, lead, dev = people["ceo"], people["vp"], people["lead"], people["dev"]
    managers.set_manager(vp, ceo)
    managers.set_manager(lead, vp)
    managers.set_manager(dev, lead)
    with pytest.raises(ManagerCycle) as caught:
        managers.set_manager(User.get_by_id(ceo.id), dev)
    assert caught.value.message == ("dev@acme.example cannot be the manager of ceo@acme.example: "
                                    "ceo@acme.example is already above dev@acme.example in the management chain")
    with pytest.raises(ManagerCycle) as caught:
        managers.set_manager(dev, dev)
    assert caught.value.message == "dev@acme.example cannot be their own manager"
    assert User.get_by_id(ceo.id).manager_id is None


def test_designated_managers_list(org, people):
    managers.set_manager(people["dev"], people["lead"])
    managers.set_manager(people["lead"], people["vp"])
    assert [u.user_name for u in managers.designated_managers(org)] == ["lead@acme.example", "vp@acme.example"]


def test_pending_deletion_user_cannot_become_manager(org, people):
    from connector.objectives import add_objective

    add_objective(org, people["vp"], "Keep")
    deletion.scim_delete_user(people["vp"])
    with pytest.raises(ManagerNotFound):
        managers.set_manager(people["dev"], people["vp"].id)
    with pytest.raises(NotFound):
        managers.set_manager(User.get_by_id(people["vp"].id), people["ceo"])
