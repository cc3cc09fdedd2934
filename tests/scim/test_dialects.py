"""Okta and Entra as they send it (IDP.md), normalised by scim.dialects before the RFC logic.

Every recorded scenario under tests/fixtures/idp/ is replayed step by step against the
protocol with the test app's backends (the connector's tests replay the same files against
Ally). The edge forms below the replay have no recorded scenario of their own.
"""
from __future__ import annotations

import pytest

from tests import idp_fixtures as fx
from tests.helpers import assert_scim_error

SCENARIOS = fx.scenario_paths()
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.mark.parametrize("path", SCENARIOS, ids=[fx.scenario_id(p) for p in SCENARIOS])
def test_recorded_idp_scenarios(api, path):
    bindings = {}
    for step in fx.load_scenario(path)["steps"]:
        request = fx.request_for(step, bindings)
        response = api.client.open(request["url"], method=request["method"], json=request["json"],
                                   headers=request["headers"])
        assert response.mimetype in ("application/scim+json", None), step["name"]
        try:
            fx.check_response(step, response.status_code, response.get_json(silent=True), bindings)
        except fx.FixtureMismatch as mismatch:
            pytest.fail(f"step {step['name']!r}: {mismatch}")


@pytest.fixture
def world(api):
    user = api.create_user("alice@acme.example", externalId="alice", title="Engineer",
                           name={"givenName": "Alice", "familyName": "Smith"},
                           emails=[{"value": "alice@home.example", "type": "home"}])
    manager = api.create_user("boss@acme.example", displayName="The Boss")
    member = api.create_user("bob@acme.example", displayName="Bob")
    group = api.create_group("Engineering", members=[user["id"], member["id"]])
    return {"user.id": user["id"], "manager.id": manager["id"], "member.id": member["id"], "group.id": group["id"]}


EDGE_CASES = {
    "capitalised sub-attributes (Entra's Formatted, Value) create the values they name": (
        "PATCH", "/Users/{{user.id}}",
        [{"op": "Add", "path": 'addresses[type eq "other"].Formatted', "value": "Building 7"},
         {"op": "Add", "path": 'emails[type eq "other"].Value', "value": "alias@acme.example"},
         {"op": "Add", "path": 'phoneNumbers[type eq "fax"].value', "value": "+1 555 0100"}],
        200, {"addresses": [{"type": "other", "formatted": "Building 7"}],
              "emails": [{"value": "alice@home.example", "type": "home"}, {"type": "other", "value": "alias@acme.example"}],
              "phoneNumbers": [{"type": "fax", "value": "+1 555 0100"}]}),
    "Entra's Add where Replace was meant changes the matching value": (
        "PATCH", "/Users/{{user.id}}", [{"op": "Add", "path": 'emails[type eq "home"].value', "value": "alice@new.example"}],
        200, {"emails": [{"value": "alice@new.example", "type": "home"}]}),
    "manager as an object on its URN path": (
        "PATCH", "/Users/{{user.id}}", [{"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": "{{manager.id}}"}}],
        200, {ENTERPRISE: {"manager": {"value": "{{manager.id}}"}}}),
    "an empty Operations list is 400 invalidSyntax, never 500 (Entra validator)": (
        "PATCH", "/Users/{{user.id}}", [], 400, {"status": "400", "scimType": "invalidSyntax"}),
    "a member without a value id is refused": (
        "PATCH", "/Groups/{{group.id}}", [{"op": "Add", "path": "members", "value": [{"display": "Bob"}]}],
        400, {"scimType": "invalidValue", "detail": "Each value of 'members' needs 'value'."}),
    "Remove with a value array whose items lack a value is refused": (
        "PATCH", "/Groups/{{group.id}}", [{"op": "Remove", "path": "members", "value": [{"display": "x"}]}],
        400, {"scimType": "invalidValue", "detail": "Removing listed values of 'members' needs objects with a string 'value'."}),
    "a non-object value for a whole extension is refused": (
        "PATCH", "/Users/{{user.id}}", [{"op": "replace", "value": {ENTERPRISE: "x"}}],
        400, {"scimType": "invalidValue", "detail": f"Operation 1: the value for '{ENTERPRISE}' must be an object."}),
    "Remove with an empty value array removes nobody": (
        "PATCH", "/Groups/{{group.id}}?attributes=members", [{"op": "Remove", "path": "members", "value": []}],
        200, {"members": [{"value": "{{user.id}}"}, {"value": "{{member.id}}"}]}),
    "Remove with one object as its value removes just that member": (
        "PATCH", "/Groups/{{group.id}}?attributes=members",
        [{"op": "Remove", "path": "members", "value": {"value": "{{member.id}}"}}],
        200, {"members": [{"value": "{{user.id}}"}]}),
    "Remove with a bare string as its value is refused, not read as remove all": (
        "PATCH", "/Groups/{{group.id}}", [{"op": "Remove", "path": "members", "value": "{{member.id}}"}],
        400, {"scimType": "invalidValue", "detail": "Removing listed values of 'members' needs objects with a string 'value'."}),
    "an Add of null to members is refused, not read as remove all": (
        "PATCH", "/Groups/{{group.id}}", [{"op": "Add", "path": "members", "value": None}],
        400, {"scimType": "invalidValue", "detail": "Operation 1: 'add' to 'members' needs the values to add; use "
                                                    "'remove' (or 'replace' with an empty list) to take values away."}),
    "an Add of an empty string to a user's multi-valued attribute is refused": (
        "PATCH", "/Users/{{user.id}}", [{"op": "add", "path": "title", "value": ""},
                                        {"op": "Add", "path": "phoneNumbers", "value": ""}],
        400, {"scimType": "invalidValue", "detail": "Operation 2: 'add' to 'phoneNumbers' needs the values to add; use "
                                                    "'remove' (or 'replace' with an empty list) to take values away."}),
    "a path-less Add with null emails is refused": (
        "PATCH", "/Users/{{user.id}}", [{"op": "add", "value": {"emails": None}}],
        400, {"scimType": "invalidValue", "detail": "Operation 1: 'add' to 'emails' needs the values to add; use "
                                                    "'remove' (or 'replace' with an empty list) to take values away."}),
    "an Add of null to a single-valued attribute still clears it (Entra's null update)": (
        "PATCH", "/Users/{{user.id}}", [{"op": "Add", "path": "title", "value": None},
                                        {"op": "Add", "path": 'emails[type eq "home"].value', "value": ""}],
        200, {"userName": "alice@acme.example"}),
    "a null extension in a path-less replace clears it": (
        "PATCH", "/Users/{{user.id}}", [{"op": "replace", "value": {ENTERPRISE: None}}], 200, {"userName": "alice@acme.example"}),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_forms(api, world, name):
    method, path, operations, status, expected = EDGE_CASES[name]
    body = {"schemas": [PATCH_OP], "Operations": operations}
    response = api.request(method, fx.substitute(path, world), fx.substitute(body, world))
    assert response.status_code == status, response.get_json()
    fx.match_subset(expected, response.get_json(), world)


def test_post_with_urn_keyed_attributes_at_the_top_level(api, world):
    """Extension attributes under full URN keys at the top level of a POST, booleans as
    strings and the manager as a bare string (IDP.md pitfalls 2, 4, 9)."""
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE], "userName": "erin@acme.example",
            f"{ENTERPRISE}:employeeNumber": "77", f"{ENTERPRISE}:manager": world["manager.id"], "active": "false",
            "emails": [{"value": "erin@acme.example", "primary": "True"}]}
    created = api.post("/Users", body).get_json()
    assert created["active"] is False and created["emails"][0]["primary"] is True
    assert created[ENTERPRISE] == {"employeeNumber": "77", "manager": {"value": world["manager.id"]}}


def test_entra_remove_with_value_array_keeps_other_members(api, world):
    """MS-COMPAT: Entra's {"op":"Remove","path":"members","value":[...]} must not empty the group."""
    api.ops(f"/Groups/{world['group.id']}",
            {"op": "Remove", "path": "members", "value": [{"value": world["member.id"]}, {"value": "absent-id"}]})
    group = api.get(f"/Groups/{world['group.id']}").get_json()
    assert [m["value"] for m in group["members"]] == [world["user.id"]]


def test_adding_null_members_keeps_them_and_replacing_with_null_empties_the_group(api, world):
    """IDP.md pitfall 20: null and "" clear where a value is replaced, never where one is added."""
    group_path = f"/Groups/{world['group.id']}"
    assert api.ops(group_path, {"op": "add", "path": "members", "value": None}).status_code == 400
    assert len(api.get(group_path).get_json()["members"]) == 2
    assert api.ops(group_path, {"op": "Replace", "path": "members", "value": None}).status_code == 200
    assert "members" not in api.get(group_path).get_json()


def test_password_is_never_returned(api, world):
    """RFC 7643 §4.1.1 password: returned "never"; Okta's random password is accepted."""
    api.ops(f"/Users/{world['user.id']}", {"op": "replace", "path": "password", "value": "S3cret!"})
    for path in (f"/Users/{world['user.id']}", f"/Users/{world['user.id']}?attributes=password", "/Users"):
        assert "S3cret" not in api.get(path).get_data(as_text=True)
    assert_scim_error(api.get("/Users?filter=password+pr"), 400, "invalidFilter",
                      "The attribute 'password' cannot be used in a filter.")
