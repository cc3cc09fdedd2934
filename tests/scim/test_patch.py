"""PATCH (RFC 7644 §3.5.2): the RFC's examples, atomicity, primary, mutability, responses."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import idp_fixtures as fx
from tests.helpers import assert_scim_error

BABS = "2819c223-7f76-453a-919d-413861904646"
JAMES = "08e1d05d-121c-4561-8b96-473d93df9210"
OTHER = "902c246b-6245-4190-8e05-00816be7344a"
# The RFC's examples shorten the ids in some places; each spelling stands for the same user.
SPELLINGS = {BABS: ("2819c223-7f76-...413861904646", "2819c223...413861904646"), JAMES: ("08e1d05d...473d93df9210",)}
ALLY = "urn:ally:params:scim:schemas:extension:ally:2.0:User"


@pytest.fixture
def trio(api):
    """Three users standing in for the RFC's member ids."""
    return {rfc_id: api.create_user(name, displayName=display)["id"]
            for rfc_id, name, display in ((BABS, "babs", "Babs Jensen"), (JAMES, "james", "James Smith"),
                                          (OTHER, "other", "Other One"))}


def rfc_patch(name: str, ids: dict | None = None) -> dict:
    """The body of an RFC example (tests/fixtures/rfc), its member ids swapped for real ones."""
    text = json.dumps(fx.load_rfc_example(name)["body"])
    for rfc_id, real in (ids or {}).items():
        for spelling in (rfc_id, *SPELLINGS.get(rfc_id, ())):
            text = text.replace(spelling, real)
    return json.loads(text)


def members(api, group_id):
    body = api.get(f"/Groups/{group_id}?attributes=members").get_json()
    return sorted(m["value"] for m in body.get("members", []))


def user(api, user_id):
    return api.get(f"/Users/{user_id}").get_json()


@pytest.fixture
def bjensen(api):
    body = fx.load_rfc_example("rfc7643-8.3-user-enterprise_extension")["body"]
    response = api.post("/Users", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_add_members(api, trio):
    """RFC 7644 §3.5.2.1: "If the target location specifies a multi-valued attribute, a new
    value is added to the attribute." Adding a present member does not repeat it."""
    group = api.create_group("Tour Guides")
    for _ in range(2):
        response = api.patch(f"/Groups/{group['id']}", rfc_patch("rfc7644-3.5.2.1-patch_op-add_members", trio))
        assert response.status_code == 200
    assert members(api, group["id"]) == [trio[BABS]]
    shown = api.get(f"/Groups/{group['id']}").get_json()["members"][0]
    assert shown["display"] == "Babs Jensen" and shown["$ref"].endswith(f"/Users/{trio[BABS]}")


def test_add_without_path(api):
    """RFC 7644 §3.5.2.1: without a path, "the "value" parameter contains a set of attributes
    to be added"; attribute names are case-insensitive ("nickname")."""
    created = api.post("/Users", fx.load_rfc_example("rfc7644-3.3-user-create_request")["body"]).get_json()
    response = api.patch(f"/Users/{created['id']}", rfc_patch("rfc7644-3.5.2.1-patch_op-add_without_path"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["nickName"] == "Babs"
    assert body["emails"] == [{"value": "babs@jensen.org", "type": "home"}]


@pytest.mark.parametrize("fixture,expected", [
    ("rfc7644-3.5.2.2-patch_op-remove_one_member", [JAMES, OTHER]),
    ("rfc7644-3.5.2.2-patch_op-remove_all_members", []),
    ("rfc7644-3.5.2.2-patch_op-remove_and_add_one_member", [JAMES, OTHER]),
    ("rfc7644-3.5.2.3-patch_op-remove_all_then_add_members", [BABS, JAMES]),
    ("rfc7644-3.5.2.3-patch_op-replace_members", [BABS, JAMES]),
])
def test_member_examples(api, trio, fixture, expected):
    """RFC 7644 §3.5.2.2/§3.5.2.3 member examples on a group holding all three users."""
    group = api.create_group("Tour Guides", members=[trio[BABS], trio[JAMES], trio[OTHER]])
    response = api.patch(f"/Groups/{group['id']}", rfc_patch(fixture, trio))
    assert response.status_code == 200, response.get_json()
    assert members(api, group["id"]) == sorted(trio[i] for i in expected)


def test_remove_work_email(api, bjensen):
    """RFC 7644 §3.5.2.2: "the values matched by the filter are removed"."""
    response = api.patch(f"/Users/{bjensen}", rfc_patch("rfc7644-3.5.2.2-patch_op-remove_filtered_emails"))
    assert response.get_json()["emails"] == [{"value": "babs@jensen.org", "type": "home"}]


def test_replace_work_address(api, bjensen):
    """RFC 7644 §3.5.2.3: a value filter without sub-attribute replaces the matching values."""
    response = api.patch(f"/Users/{bjensen}", rfc_patch("rfc7644-3.5.2.3-patch_op-replace_work_address"))
    addresses = response.get_json()["addresses"]
    assert addresses[0]["streetAddress"] == "911 Universal City Plaza" and addresses[0]["primary"] is True
    assert addresses[1]["type"] == "home"


def test_replace_street_address(api, bjensen):
    """RFC 7644 §3.5.2.3: "the matching sub-attribute of all matching records is replaced"."""
    response = api.patch(f"/Users/{bjensen}", rfc_patch("rfc7644-3.5.2.3-patch_op-replace_street_address"))
    work, home = response.get_json()["addresses"]
    assert work["streetAddress"] == "1010 Broadway Ave" and work["locality"] == "Hollywood"
    assert home["streetAddress"] == "456 Hollywood Blvd"


def test_replace_without_path(api, bjensen):
    """RFC 7644 §3.5.2.3: without a path the value's attributes replace the existing ones."""
    response = api.patch(f"/Users/{bjensen}", rfc_patch("rfc7644-3.5.2.3-patch_op-replace_without_path"))
    body = response.get_json()
    assert body["nickName"] == "Babs"
    assert body["emails"] == [{"value": "bjensen@example.com", "type": "work", "primary": True},
                              {"value": "babs@jensen.org", "type": "home"}]


def test_complex_replace_keeps_other_sub_attributes(api, bjensen):
    """RFC 7644 §3.5.2.3: "Sub-attributes that are not specified in the "value" parameter are
    left unchanged."""
    response = api.ops(f"/Users/{bjensen}", {"op": "replace", "path": "name", "value": {"givenName": "Babs"}})
    assert response.get_json()["name"]["familyName"] == "Jensen"
    assert response.get_json()["name"]["givenName"] == "Babs"


def test_a_failing_operation_changes_nothing(api, bjensen):
    """RFC 7644 §3.5.2: "If an error occurs, the entire PATCH request is not applied"."""
    before = user(api, bjensen)
    response = api.ops(f"/Users/{bjensen}",
                       {"op": "replace", "path": "title", "value": "Changed"},
                       {"op": "replace", "path": 'addresses[type eq "other"].streetAddress', "value": "x"})
    assert_scim_error(response, 400, "noTarget", "No value of 'addresses' matches the filter in the path.")
    assert user(api, bjensen) == before


def test_a_failing_member_change_changes_nothing(api, trio):
    group = api.create_group("Tour Guides", members=[trio[BABS]])
    response = api.ops(f"/Groups/{group['id']}",
                       {"op": "replace", "path": "displayName", "value": "Renamed"},
                       {"op": "add", "path": "members", "value": [{"value": trio[JAMES]}, {"value": "no-such-user"}]})
    assert_scim_error(response, 400, "invalidValue", "no user with id no-such-user")
    body = api.get(f"/Groups/{group['id']}?attributes=members,displayName").get_json()
    assert body["displayName"] == "Tour Guides" and [m["value"] for m in body["members"]] == [trio[BABS]]


def test_one_primary_the_new_one_wins(api, bjensen):
    """RFC 7643 §2.4: "The primary attribute value "true" MUST appear no more than once."""
    response = api.ops(f"/Users/{bjensen}", {"op": "replace", "path": 'emails[type eq "home"].primary', "value": True})
    assert response.get_json()["emails"] == [{"value": "bjensen@example.com", "type": "work"},
                                             {"value": "babs@jensen.org", "type": "home", "primary": True}]
    response = api.ops(f"/Users/{bjensen}", {"op": "add", "path": "emails",
                                             "value": [{"value": "new@example.com", "primary": True}]})
    assert [e.get("primary") for e in response.get_json()["emails"]] == [None, None, True]
    response = api.ops(f"/Users/{bjensen}", {"op": "replace", "path": "emails",
                                             "value": [{"value": "a@x.org", "primary": True}, {"value": "b@x.org", "primary": True}]})
    assert_scim_error(response, 400, "invalidValue", "'emails' has more than one value with \"primary\": true.")


def test_remove_through_a_filter_that_matches_nothing_is_not_an_error(api, bjensen):
    before = user(api, bjensen)
    response = api.ops(f"/Users/{bjensen}", {"op": "remove", "path": 'emails[type eq "other"]'})
    assert response.status_code == 200
    assert response.get_json()["emails"] == before["emails"]


@pytest.mark.parametrize("operation,status,scim_type,detail", [
    ({"op": "replace", "path": "id", "value": "x"}, 400, "mutability", "The attribute 'id' is read-only"),
    ({"op": "add", "path": "groups", "value": [{"value": "g"}]}, 400, "mutability", "The attribute 'groups' is read-only"),
    ({"op": "replace", "path": f"{ALLY}:status", "value": "suspended"}, 400, "mutability", f"'{ALLY}:status' is read-only"),
    ({"op": "replace", "path": "nope", "value": "x"}, 400, "invalidPath", "The attribute 'nope' is not defined for User."),
    ({"op": "replace", "value": {"nope": "x"}}, 400, "invalidPath", "The attribute 'nope' is not defined for User."),
    ({"op": "replace", "path": 'emails[type eq "work"', "value": "x"}, 400, "invalidPath", "is malformed"),
    ({"op": "remove"}, 400, "noTarget", "Operation 1: remove needs a 'path'."),
    ({"op": "move", "path": "title"}, 400, "invalidSyntax", "'op' must be add, replace or remove, not 'move'."),
    ({"op": ["add"], "path": "title", "value": "t"}, 400, "invalidSyntax", "'op' must be add, replace or remove, not ['add']."),
    ({"op": {"add": 1}, "path": "title"}, 400, "invalidSyntax", "'op' must be add, replace or remove, not {'add': 1}."),
    ({"op": "replace", "path": "title", "value": 5}, 400, "invalidValue", "'title' must be a string, not a number."),
    ({"op": "replace", "path": "active", "value": "maybe"}, 400, "invalidValue", "'active' must be a boolean, not the string 'maybe'."),
    ({"op": "replace", "path": "emails", "value": "x@y"}, 400, "invalidValue", "'emails' is multi-valued"),
    ({"op": "remove", "path": "userName"}, 400, "invalidValue", "The attribute 'userName' is required."),
    ({"op": "replace", "value": "x"}, 400, "invalidSyntax", "'replace' without a path needs an object as its value."),
    ("not an object", 400, "invalidSyntax", "Operation 1 must be a JSON object."),
])
def test_refused_operations(api, bjensen, operation, status, scim_type, detail):
    """RFC 7644 §3.5.2: errors per operation, with the scimType of RFC 7644 §3.12."""
    assert_scim_error(api.ops(f"/Users/{bjensen}", operation), status, scim_type, detail)


def test_immutable_attribute(api, bjensen):
    """RFC 7643 §2.2 immutable: "may be defined at resource creation or in a request to add a
    value. The attribute value SHALL NOT be updated."""
    path = f"{ALLY}:badge"
    assert api.ops(f"/Users/{bjensen}", {"op": "add", "path": path, "value": "gold"}).status_code == 200
    assert api.ops(f"/Users/{bjensen}", {"op": "add", "path": path, "value": "gold"}).status_code == 200
    assert_scim_error(api.ops(f"/Users/{bjensen}", {"op": "replace", "path": path, "value": "silver"}),
                      400, "mutability", f"The attribute '{path}' is immutable and cannot be changed.")


@pytest.mark.parametrize("body,detail", [
    ({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []},
     "'Operations' must be a non-empty array of PATCH operations."),
    ({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]},
     "'Operations' must be a non-empty array of PATCH operations."),
    ({"Operations": [{"op": "remove", "path": "title"}]}, "A PATCH body must have \"schemas\""),
])
def test_malformed_patch_bodies(api, bjensen, body, detail):
    """RFC 7644 §3.5.2: the body holds "schemas" and at least one operation (the Entra
    validator's empty Operations is answered with 400, never 500)."""
    assert_scim_error(api.patch(f"/Users/{bjensen}", body), 400, "invalidSyntax", detail)


def test_patch_answers_200_and_big_groups_leave_members_out(api, trio):
    """PATCH answers 200 with the resource; a group's members only when `attributes` asks."""
    group = api.create_group("Tour Guides", members=[trio[BABS]])
    operation = {"op": "add", "path": "members", "value": [{"value": trio[JAMES]}]}
    response = api.ops(f"/Groups/{group['id']}", operation)
    assert response.status_code == 200
    assert "members" not in response.get_json() and response.get_json()["displayName"] == "Tour Guides"
    assert response.headers["ETag"] == response.get_json()["meta"]["version"]
    response = api.ops(f"/Groups/{group['id']}?attributes=members", {"op": "remove", "path": f'members[value eq "{trio[BABS]}"]'})
    assert [m["value"] for m in response.get_json()["members"]] == [trio[JAMES]]
    assert set(response.get_json()) == {"schemas", "id", "members"}


def test_patch_of_unknown_resource_is_404(api):
    response = api.ops("/Users/nobody", {"op": "replace", "path": "title", "value": "x"})
    assert_scim_error(response, 404, None, "No User with id 'nobody'.")


def test_complex_member_filters_fall_back_to_a_full_apply(api, trio):
    """A filter that is not `value eq` terms still works (the backend applies it in full)."""
    group = api.create_group("Tour Guides", members=[trio[BABS], trio[JAMES]])
    response = api.ops(f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value ne "{trio[BABS]}"]'})
    assert response.status_code == 200
    assert members(api, group["id"]) == [trio[BABS]]


def test_whole_extension_paths(api, bjensen):
    """RFC 7644 §3.10: a schema URN alone names the whole extension."""
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    response = api.ops(f"/Users/{bjensen}", {"op": "replace", "path": enterprise, "value": {"department": "Rides"}})
    assert response.get_json()[enterprise]["department"] == "Rides"
    assert response.get_json()[enterprise]["costCenter"] == "4130"
    response = api.ops(f"/Users/{bjensen}", {"op": "remove", "path": enterprise})
    assert enterprise not in response.get_json() and enterprise not in response.get_json()["schemas"]


def test_full_rfc_user_round_trips(api, bjensen):
    """Every attribute the User schema defines comes back as sent (read-only ones excepted,
    password never)."""
    sent = fx.load_rfc_example("rfc7643-8.3-user-enterprise_extension")["body"]
    stored = api.get(f"/Users/{bjensen}").get_json()
    for key in ("id", "meta", "groups", "password", "schemas"):
        sent.pop(key)
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    sent[enterprise]["manager"].pop("displayName")
    assert {k: stored[k] for k in sent} == sent
    assert "password" not in stored and "groups" not in stored


_ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
_PATHS = st.sampled_from([
    None, "emails", "emails.value", 'emails[type eq "work"]', 'emails[type eq "work"].value', "emails[primary eq true].primary",
    "name", "name.givenName", 'addresses[type eq "home"].locality', f"{_ENT}:manager", f"{_ENT}:manager.value", _ENT,
    "active", "title", "id", "meta", "groups", "userName", "nope", 'emails[value co "@"]', "emails[not (type pr)]"])
_VALUES = st.sampled_from([
    None, "", "x", True, "False", 5, [], {}, [{"value": "a"}], [{"value": "a", "primary": True}, {"value": "b", "primary": True}],
    {"value": "v"}, {"givenName": "G"}, {"type": "work", "value": "w@x"}, {"emails": [{"value": "z"}], "nickname": "n"},
    {"name.givenName": "q", f"{_ENT}:department": "d", "id": "x"}, [1, 2], {"primary": "true"}, [None], {_ENT: {"manager": "m"}}])
_OPS = st.fixed_dictionaries({"op": st.sampled_from(["add", "replace", "remove", "Add", "Remove", "move"])},
                             optional={"path": _PATHS, "value": _VALUES})


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(_OPS, min_size=1, max_size=3))
def test_any_patch_is_applied_or_refused_never_500(api, bjensen, operations):
    """Whatever the operations, the answer is 200 or a 4xx SCIM error, never a 500."""
    response = api.ops(f"/Users/{bjensen}", *operations)
    assert response.status_code in (200, 400, 409), response.get_json()


def test_add_through_a_value_filter_merges_or_creates(api, bjensen):
    """`add` with a value filter and no sub-attribute merges into the matching value, or creates
    it from the filter's terms; `replace` swaps the matching value whole."""
    response = api.ops(f"/Users/{bjensen}", {"op": "add", "path": 'phoneNumbers[type eq "fax"]', "value": {"value": "555-0100"}})
    assert {"type": "fax", "value": "555-0100"} in response.get_json()["phoneNumbers"]
    response = api.ops(f"/Users/{bjensen}", {"op": "add", "path": 'phoneNumbers[type eq "fax"]', "value": {"display": "Fax"}})
    assert {"type": "fax", "value": "555-0100", "display": "Fax"} in response.get_json()["phoneNumbers"]
    response = api.ops(f"/Users/{bjensen}", {"op": "replace", "path": 'phoneNumbers[type eq "fax"]', "value": {"value": "555-0199"}})
    assert {"value": "555-0199"} in response.get_json()["phoneNumbers"]
