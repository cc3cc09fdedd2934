"""Membership PATCH in every form Okta and Entra send (IDP.md 1, 2, 13, 14; pitfalls 3, 6),
the PATCH answer, all-or-nothing PATCH and the If-Match compare-and-set. The recorded group
scenarios themselves are replayed by test_idp_replay.py."""
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector import teams
from connector.errors import StaleVersion
from connector.models import Membership, Team, User
from tests.connector.group_helpers import ScimApi, api  # noqa: F401 - fixture
from tests.helpers import assert_scim_error

def _group_with(api, make_user, count=3):
    users = [make_user(f"user{i}@acme.example").id for i in range(count)]
    group = api.create_group("Tour Guides", members=users[:2])
    return group["id"], users


def _value_filter(*ids):
    return "members[" + " or ".join(f'value eq "{user_id}"' for user_id in ids) + "]"


FORMS = [
    # Okta: add with a value array (display echoed), adding a present member is no error.
    (lambda u: [{"op": "add", "path": "members", "value": [{"value": u[0], "display": "x"}, {"value": u[2]}]}],
     lambda u: {u[0], u[1], u[2]}),
    # Okta: remove through members[value eq "..."], then add, in one request.
    (lambda u: [{"op": "remove", "path": _value_filter(u[0])}, {"op": "add", "path": "members",
                                                                 "value": [{"value": u[2]}]}],
     lambda u: {u[1], u[2]}),
    # Okta: replace with the complete list.
    (lambda u: [{"op": "replace", "path": "members", "value": [{"value": u[1]}, {"value": u[2]}]}],
     lambda u: {u[1], u[2]}),
    # Entra default dialect: Remove with path "members" and a value array removes just those.
    (lambda u: [{"op": "Remove", "path": "members", "value": [{"value": u[0]}]}], lambda u: {u[1]}),
    # Entra with aadOptscim062020: members[value eq "..."]; removing an absent member is no error.
    (lambda u: [{"op": "remove", "path": _value_filter(u[1], u[2])}], lambda u: {u[0]}),
    # Entra: Add with "$ref": null.
    (lambda u: [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": u[2]}]}],
     lambda u: {u[0], u[1], u[2]}),
    # RFC 7644 §3.5.2.2: remove with the path "members" and no value removes them all.
    (lambda u: [{"op": "remove", "path": "members"}], lambda u: set()),
    # Remove all, then add: the complete new set.
    (lambda u: [{"op": "remove", "path": "members"}, {"op": "add", "path": "members", "value": [{"value": u[2]}]}],
     lambda u: {u[2]}),
    # A filter on something other than the id: the members are loaded and the filter applied.
    (lambda u: [{"op": "remove", "path": 'members[display eq "user0@acme.example"]'}], lambda u: {u[1]}),
    # A filter the id sets cannot express: the members are loaded and the filter applied.
    (lambda u: [{"op": "remove", "path": f'members[value eq "{u[0]}" and type eq "User"]'}], lambda u: {u[1]}),
]
FORM_IDS = ["okta-add", "okta-remove-then-add", "okta-replace", "entra-remove-value-array", "entra-remove-filter",
            "entra-add-null-ref", "remove-all", "remove-all-then-add", "filter-on-display", "filter-on-id-and-type"]


@pytest.mark.parametrize("operations, expected", FORMS, ids=FORM_IDS)
def test_membership_forms(api, make_user, operations, expected):
    group_id, users = _group_with(api, make_user)
    response = api.ops(f"/Groups/{group_id}", *operations(users))
    assert response.status_code == 200, response.get_json()
    assert api.member_ids(group_id) == expected(users)
    assert User.select().count() == 3  # membership changes never touch users


@pytest.mark.parametrize("operations, expected", FORMS, ids=FORM_IDS)
def test_membership_forms_with_the_ids_in_capitals(api, make_user, operations, expected):
    """RFC 7643 §4.2: members.value is caseExact false, so an id in capitals names the same
    user in every form, whether the ids are changed as sets or the members are loaded."""
    group_id, users = _group_with(api, make_user)
    response = api.ops(f"/Groups/{group_id}", *operations([user_id.upper() for user_id in users]))
    assert response.status_code == 200, response.get_json()
    assert api.member_ids(group_id) == expected(users)
    assert Membership.select().count() == len(expected(users))


def _member_values(ids):
    """What an IdP, or something posing as one, may put in the value of a members operation."""
    one_id = st.sampled_from(ids)
    reference = st.one_of(one_id.map(lambda id_: {"value": id_}), one_id.map(lambda id_: {"value": id_, "display": "x"}),
                          st.just({"value": None}), st.just({}))
    return st.one_of(st.none(), st.just(""), st.just([]), one_id, reference, st.lists(reference, max_size=3),
                     st.integers(), st.booleans(), st.lists(one_id, max_size=2))


def _named(value) -> set:
    """The ids a remove's value names."""
    items = value if isinstance(value, list) else [value]
    return {item.get("value") for item in items if isinstance(item, dict)}


def test_an_add_never_takes_a_member_away_and_a_remove_only_what_it_names(api, make_user):
    """Whatever the value of an add or a remove of `members` (IDP.md pitfalls 3, 20): a refused
    operation changes nothing, an add keeps every member, and a remove with a value takes away
    only members its value names (never the whole group)."""
    group_id, users = _group_with(api, make_user, count=4)

    @settings(max_examples=120, deadline=None)
    @given(op=st.sampled_from(["add", "Add", "remove", "Remove"]), value=_member_values(users + ["no-such-user"]))
    def run(op, value):
        api.ops(f"/Groups/{group_id}", {"op": "replace", "path": "members", "value": [{"value": u} for u in users[:3]]})
        before = api.member_ids(group_id)
        response = api.ops(f"/Groups/{group_id}", {"op": op, "path": "members", "value": value})
        after = api.member_ids(group_id)
        assert response.status_code in (200, 400), response.get_json()
        if response.status_code == 400:
            assert after == before
        elif op.lower() == "add":
            assert after >= before
        elif value is not None:
            assert after <= before and before - after <= _named(value)

    run()


def test_okta_rename_with_the_read_only_id(api, make_user):
    """IDP.md 13: Okta's path-less replace carries the group's read-only id: ignored, not refused."""
    group_id, users = _group_with(api, make_user)
    response = api.ops(f"/Groups/{group_id}", {"op": "replace", "value": {"id": group_id, "displayName": "Guides"}})
    assert response.status_code == 200
    assert Team.get_by_id(group_id).name == "Guides"
    assert api.member_ids(group_id) == {users[0], users[1]}


def test_patch_answers_without_members_unless_asked(api, make_user):
    """RFC 7644 §3.5.2: with no `attributes` the server may answer 200 with the resource; the
    heavy members are left out unless `attributes` asks for them (README "How PATCH answers")."""
    group_id, users = _group_with(api, make_user)
    add = {"op": "add", "path": "members", "value": [{"value": users[2]}]}
    plain = api.ops(f"/Groups/{group_id}", add)
    assert plain.status_code == 200
    assert "members" not in plain.get_json() and plain.get_json()["displayName"] == "Tour Guides"
    excluded = api.ops(f"/Groups/{group_id}?excludedAttributes=displayName", add).get_json()
    assert "members" not in excluded and "displayName" not in excluded
    asked = api.ops(f"/Groups/{group_id}?attributes=members", add).get_json()
    assert {member["value"] for member in asked["members"]} == set(users)


def test_a_patch_is_all_or_nothing(api, make_user):
    """RFC 7644 §3.5.2: "If an error occurs, the operation MUST be rolled back"."""
    group_id, users = _group_with(api, make_user)
    response = api.ops(f"/Groups/{group_id}", {"op": "replace", "path": "displayName", "value": "Renamed"},
                       {"op": "add", "path": "members", "value": [{"value": users[2]}, {"value": "nobody"}]})
    assert_scim_error(response, 400, "invalidValue", "No user with the id nobody in this organisation")
    response = api.ops(f"/Groups/{group_id}", {"op": "remove", "path": _value_filter(users[0])},
                       {"op": "replace", "path": "nickName", "value": "x"})
    assert_scim_error(response, 400, "invalidPath")
    group = api.group(group_id)
    assert group["displayName"] == "Tour Guides" and group["meta"]["version"] == 'W/"1"'
    assert api.member_ids(group_id) == {users[0], users[1]}


@pytest.mark.parametrize("sub_attribute", ["display", "value"])
def test_member_sub_attributes_cannot_be_changed(api, make_user, sub_attribute):
    """RFC 7643 §4.2: members.value is immutable (through a value filter too: that swapped one
    member for another), display is set by the service provider."""
    group_id, users = _group_with(api, make_user)
    response = api.ops(f"/Groups/{group_id}", {"op": "replace", "path": f'{_value_filter(users[0])}.{sub_attribute}',
                                               "value": users[2]})
    assert_scim_error(response, 400, "mutability")
    assert api.member_ids(group_id) == {users[0], users[1]}


def test_two_patches_with_the_same_if_match(app, api, make_user):
    """RFC 7644 §3.14: of two changes sent with the same If-Match, one wins and the other is
    412: the version is compared and bumped in one SQL statement."""
    group_id, users = _group_with(api, make_user, count=4)
    clients = [ScimApi(app.test_client(), api.token) for _ in range(2)]
    start, statuses = threading.Barrier(2), []

    def send(client, user_id):
        start.wait()
        response = client.ops(f"/Groups/{group_id}", {"op": "add", "path": "members", "value": [{"value": user_id}]},
                              headers={"If-Match": 'W/"1"'})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(client, users[2 + i])) for i, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]
    assert Membership.select().where(Membership.team == group_id).count() == 3
    assert Team.get_by_id(group_id).version == 2


def test_stale_objects_never_lose_a_change(org, make_user):
    """The version moves in SQL: two holders of the same stale Team both count, and a holder
    that names the version it read is refused once someone else changed the team."""
    ann, bob = make_user("ann@acme.example"), make_user("bob@acme.example")
    created = teams.create_team(org, "Ops")
    first, second = teams.get_team(org, created.id), teams.get_team(org, created.id)
    teams.add_members(first, [ann.id])
    teams.rename_team(second, "Ops EMEA")
    assert Team.get_by_id(created.id).version == 3
    with pytest.raises(StaleVersion) as caught:
        teams.change_team(first, add=[bob.id], expected_version=2)
    assert caught.value.message == "The team 'Ops' has changed since version 2; read it again before changing it"
    assert teams.member_ids(created) == [ann.id]
