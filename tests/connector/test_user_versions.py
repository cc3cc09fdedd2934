"""A user's version (the SCIM ETag) is bumped by the database, never computed in Python, and a
change made as of a version (If-Match) is compare-and-set: a writer that lost the race gets
StaleVersion and its whole transaction changes nothing. Changes made for an identity provider
record when it last changed the user (User.idp_seen_at)."""
import pytest

from connector import directory, managers, user_changes, user_values
from connector.db import write_transaction
from connector.errors import StaleVersion
from connector.models import AuditEvent, User


def fresh(user):
    return User.get_by_id(user.id)


def test_two_writers_holding_the_same_version_make_two_versions(org, make_user):
    """Both objects were read at version 1: each write adds one in SQL, so the second writer
    does not store version 2 again over the first."""
    user = make_user("ann@acme.example")
    first, second = directory.get_user(org, user.id), directory.get_user(org, user.id)
    directory.update_user(first, {"title": "CTO"})
    directory.update_user(second, {"department": "R&D"})
    stored = fresh(user)
    assert (stored.version, stored.title, stored.department) == (3, "CTO", "R&D")


def test_expected_version_is_compare_and_set(org, make_user):
    """RFC 7644 §3.14: "If-Match ... the service provider SHALL ... reject the request if the
    version does not match" — here the race: both read version 1 before either wrote."""
    user = make_user("bob@acme.example")
    winner, loser = directory.get_user(org, user.id), directory.get_user(org, user.id)
    with write_transaction(), user_changes.changing(winner, expected_version="1"):
        directory.update_user(winner, {"title": "CTO"})
    with pytest.raises(StaleVersion) as caught:
        with write_transaction(), user_changes.changing(loser, expected_version="1"):
            directory.update_user(loser, {"title": "CEO"}, values={"phoneNumbers": [{"value": "+1 555 0100"}]})
    assert caught.value.message == "bob@acme.example has changed since version 1; read it again before changing it"
    stored = fresh(user)
    assert (stored.version, stored.title) == (2, "CTO")
    assert user_values.rows_of(stored) == {"emails": [{"value": "bob@acme.example", "type": "work",
                                                                   "primary": True}]}
    updates = AuditEvent.select().where((AuditEvent.target_id == user.id) & (AuditEvent.action == "user.updated"))
    assert updates.count() == 1


def test_an_expected_version_that_is_not_the_stored_one_is_refused_at_once(org, make_user):
    user = make_user("cy@acme.example")
    with pytest.raises(StaleVersion):
        with user_changes.changing(directory.get_user(org, user.id), expected_version="7"):
            pass


def test_several_changes_under_one_expectation_each_add_a_version(org, make_user):
    user = make_user("dee@acme.example")
    boss = make_user("boss@acme.example")
    with write_transaction(), user_changes.changing(user, expected_version="1"):
        directory.update_user(user, {"title": "CTO"})
        managers.set_manager(user, boss)
        directory.suspend(user)
    stored = fresh(user)
    assert (stored.version, stored.title, stored.manager_id, stored.status) == (4, "CTO", boss.id, "suspended")
    assert user.version == 4


def test_a_guarded_delete_loses_to_an_earlier_change(org, make_user):
    from connector import deletion

    user = make_user("eve@acme.example")
    stale = directory.get_user(org, user.id)
    directory.update_user(directory.get_user(org, user.id), {"title": "CFO"})
    with pytest.raises(StaleVersion):
        with write_transaction(), user_changes.changing(stale, expected_version="1"):
            deletion.scim_delete_user(stale)
    assert fresh(user).title == "CFO"


def test_changes_for_the_idp_record_when_it_last_changed_the_user(org, make_user):
    by_hand = make_user("fay@acme.example")
    assert by_hand.idp_seen_at is None
    directory.update_user(by_hand, {"title": "CTO"})
    assert fresh(by_hand).idp_seen_at is None
    with user_changes.changing(by_hand, by_idp=True):
        directory.update_user(by_hand, {"title": "CEO"})
    stored = fresh(by_hand)
    assert stored.idp_seen_at is not None and stored.idp_seen_at == stored.updated_at


def test_users_the_idp_provisions_are_managed_and_seen(org):
    user = directory.create_user(org, {"user_name": "gil@acme.example"}, managed_by_idp=True)
    stored = fresh(user)
    assert stored.managed_by_idp and stored.idp_seen_at == stored.created_at == stored.updated_at
