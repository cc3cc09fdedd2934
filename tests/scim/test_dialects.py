"""Every Okta and Entra request form of IDP.md, replayed from tests/fixtures/idp/<idp>/protocol_*.json
against the protocol (scim.dialects normalises them before the RFC logic runs).

A fixture holds `method`, `path`, `request`, `status` and `response` (a subset the answer must
contain; lists compare element by element), optionally `setup` requests, `absent` top-level
keys and `exact_keys` ({"Resources.0": [keys]}). Placeholders {user_id}, {manager_id},
{member_id} and {group_id} name the world each case starts from.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, assert_scim_error

CASES = sorted((FIXTURES / "idp").glob("*/protocol_*.json"))


@pytest.fixture
def world(api):
    user = api.create_user("alice@acme.example", externalId="alice", title="Engineer",
                           name={"givenName": "Alice", "familyName": "Smith"},
                           emails=[{"value": "alice@home.example", "type": "home"}])
    manager = api.create_user("boss@acme.example", displayName="The Boss")
    member = api.create_user("bob@acme.example", displayName="Bob")
    group = api.create_group("Engineering", members=[user["id"], member["id"]])
    return {"user_id": user["id"], "manager_id": manager["id"], "member_id": member["id"], "group_id": group["id"]}


def fill(value, world):
    text = json.dumps(value)
    for name, real in world.items():
        text = text.replace("{" + name + "}", real)
    return json.loads(text)


def contains(actual, expected, where="response"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for key, value in expected.items():
            assert key in actual, f"{where}: no {key!r} in {actual!r}"
            contains(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for index, (a, e) in enumerate(zip(actual, expected)):
            contains(a, e, f"{where}[{index}]")
    else:
        assert actual == expected and type(actual) is type(expected), f"{where}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("case_file", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_idp_request_forms(api, world, case_file: Path):
    case = fill(json.loads(case_file.read_text()), world)
    for step in case.get("setup", []):
        assert api.request(step["method"], step["path"], step.get("request")).status_code < 300
    response = api.request(case["method"], case["path"], case.get("request"))
    body = response.get_json()
    assert response.status_code == case["status"], body
    assert response.mimetype == "application/scim+json"
    contains(body, case.get("response", {}))
    for key in case.get("absent", []):
        assert key not in body, f"{key} should not be in {body}"
    for where, keys in case.get("exact_keys", {}).items():
        node = body
        for part in where.split("."):
            node = node[int(part)] if part.isdigit() else node[part]
        assert list(node) == keys


def test_entra_remove_with_value_array_keeps_other_members(api, world):
    """MS-COMPAT: Entra's {"op":"Remove","path":"members","value":[...]} must not empty the group."""
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": world["member_id"]}, {"value": "absent-id"}]}]}
    assert api.patch(f"/Groups/{world['group_id']}", body).status_code == 200
    group = api.get(f"/Groups/{world['group_id']}").get_json()
    assert [m["value"] for m in group["members"]] == [world["user_id"]]


def test_password_is_never_returned(api, world):
    """RFC 7643 §4.1.1 password: returned "never"; Okta's random password is accepted."""
    api.ops(f"/Users/{world['user_id']}", {"op": "replace", "path": "password", "value": "S3cret!"})
    for path in (f"/Users/{world['user_id']}", f"/Users/{world['user_id']}?attributes=password",
                 "/Users?filter=password+pr"):
        assert "S3cret" not in api.get(path).get_data(as_text=True)


@pytest.mark.parametrize("operation,detail", [
    ({"op": "Remove", "path": "members", "value": [{"display": "x"}]},
     "Removing listed values of 'members' needs objects with a string 'value'."),
    ({"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x"}},
     "the value for 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' must be an object."),
])
def test_malformed_dialect_forms(api, world, operation, detail):
    assert_scim_error(api.ops(f"/Groups/{world['group_id']}" if "members" in str(operation) else f"/Users/{world['user_id']}",
                              operation), 400, "invalidValue", detail)


def test_empty_values_clear_whole_extensions_and_remove_nothing(api, world):
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    api.ops(f"/Users/{world['user_id']}", {"op": "add", "path": f"{enterprise}:department", "value": "Tours"})
    response = api.ops(f"/Users/{world['user_id']}", {"op": "replace", "value": {enterprise: None}})
    assert enterprise not in response.get_json()
    response = api.ops(f"/Groups/{world['group_id']}?attributes=members", {"op": "Remove", "path": "members", "value": []})
    assert len(response.get_json()["members"]) == 2
