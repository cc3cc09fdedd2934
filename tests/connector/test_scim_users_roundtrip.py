"""Whatever /Schemas publishes for Users round-trips exactly through POST, PUT, PATCH and GET:
stored case and values come back unchanged, absent stays absent, and the RFC 7643 §8.2 and
§8.3 users read back as they were posted. The bodies are generated from the /Schemas answer
itself, so an attribute added to the schema is covered without touching this file."""
import base64
import copy

import pytest

from tests.idp_fixtures import load_rfc_example

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ALLY = "urn:ietf:params:scim:schemas:extension:ally:2.0:User"
BASE = "https://ally.test/scim/v2"
SERVER_SIDE = ("id", "meta", "schemas", "groups", ALLY)


@pytest.fixture
def schemas(scim):
    listed = scim.get("/Schemas").get_json()["Resources"]
    return {schema["id"]: schema for schema in listed}


@pytest.fixture
def boss(scim):
    body = {"schemas": [USER], "userName": "boss@acme.example", "displayName": "John Smith"}
    return scim.post("/Users", body).get_json()["id"]


def sample_user(schemas, tag: str, boss_id: str) -> dict:
    """A User with a value for every attribute a client may write (readOnly and writeOnly left
    out, except the password, which must be accepted and never come back)."""
    body = {"schemas": [USER, ENTERPRISE], "externalId": f"Ext-{tag}", "password": f"Secret-{tag}"}
    for attribute in schemas[USER]["attributes"]:
        value = _sample(attribute, tag, attribute["name"])
        if value is not None:
            body[attribute["name"]] = value
    body["userName"] = f"Round.Trip-{tag}@Acme.example"
    body["emails"][0]["value"] = f"Round.Trip-{tag}@Acme.example"
    enterprise = {a["name"]: _sample(a, tag, a["name"]) for a in schemas[ENTERPRISE]["attributes"]}
    enterprise["manager"] = {"value": boss_id, "$ref": f"{BASE}/Users/{boss_id}"}
    body[ENTERPRISE] = enterprise
    return body


def _sample(attribute: dict, tag: str, path: str):
    if attribute["mutability"] in ("readOnly", "writeOnly"):
        return None
    if attribute["multiValued"]:
        first, second = _single(attribute, tag, path, 0), _single(attribute, tag, path, 1)
        if isinstance(first, dict) and "primary" in first:
            second.pop("primary")
        return [first, second]
    return _single(attribute, tag, path, 0)


def _single(attribute: dict, tag: str, path: str, index: int):
    kind = attribute["type"]
    if kind == "complex":
        subs = {sub["name"]: _single(sub, tag, f"{path}.{sub['name']}", index)
                for sub in attribute["subAttributes"] if sub["mutability"] not in ("readOnly", "writeOnly")}
        return subs
    if kind == "boolean":
        return True
    if kind == "reference":
        return f"https://example.com/{path}/{tag}/{index}"
    if kind == "binary":
        return base64.b64encode(f"{path}-{tag}-{index}".encode()).decode()
    if attribute.get("canonicalValues"):
        return attribute["canonicalValues"][index % len(attribute["canonicalValues"])]
    return f"{path} Value {tag}-{index} ÄÖ"


def readback(document: dict) -> dict:
    """The response without what the service provider adds (id, meta, schemas, groups, the
    Ally status and the manager's readOnly displayName)."""
    out = {key: value for key, value in copy.deepcopy(document).items() if key not in SERVER_SIDE}
    manager = out.get(ENTERPRISE, {}).get("manager")
    if manager:
        manager.pop("displayName", None)
    return out


def written(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in ("schemas", "password")}


def test_post_then_get_returns_every_attribute_as_sent(scim, schemas, boss):
    """RFC 7644 §3.3: the response contains the created resource; RFC 7643 §2.1: values keep
    the case they were sent in."""
    body = sample_user(schemas, "1", boss)
    created = scim.post("/Users", body)
    assert created.status_code == 201, created.get_json()
    assert readback(created.get_json()) == written(body)
    assert readback(scim.get(f"/Users/{created.get_json()['id']}").get_json()) == written(body)


def test_put_then_get_returns_the_replacement_and_clears_the_rest(scim, schemas, boss):
    """RFC 7644 §3.5.1: "PUT performs a full update": attributes left out are cleared."""
    user_id = scim.post("/Users", sample_user(schemas, "1", boss)).get_json()["id"]
    replacement = sample_user(schemas, "2", boss)
    put = scim.put(f"/Users/{user_id}", replacement)
    assert put.status_code == 200, put.get_json()
    assert readback(scim.get(f"/Users/{user_id}").get_json()) == written(replacement)
    minimal = {"schemas": [USER], "userName": "Round.Trip-2@Acme.example", "active": True}
    scim.put(f"/Users/{user_id}", minimal)
    assert readback(scim.get(f"/Users/{user_id}").get_json()) == written(minimal)


def test_patch_replace_of_every_attribute(scim, schemas, boss):
    """RFC 7644 §3.5.2.3: replace with a path sets each attribute."""
    user_id = scim.post("/Users", sample_user(schemas, "1", boss)).get_json()["id"]
    wanted = sample_user(schemas, "3", boss)
    operations = [{"op": "replace", "path": name, "value": value}
                  for name, value in written(wanted).items() if name != ENTERPRISE]
    operations += [{"op": "replace", "path": f"{ENTERPRISE}:{name}", "value": value}
                   for name, value in wanted[ENTERPRISE].items()]
    patched = scim.ops(f"/Users/{user_id}", *operations)
    assert patched.status_code == 200, patched.get_json()
    assert readback(patched.get_json()) == written(wanted)
    assert readback(scim.get(f"/Users/{user_id}").get_json()) == written(wanted)


def test_empty_and_null_clear(scim, schemas, boss):
    """RFC 7643 §2.5: null and "" mean unassigned; Entra's null-update test expects a clear."""
    user_id = scim.post("/Users", sample_user(schemas, "1", boss)).get_json()["id"]
    scim.ops(f"/Users/{user_id}", {"op": "replace", "path": "title", "value": ""},
             {"op": "replace", "path": "name.givenName", "value": None},
             {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": ""},
             {"op": "replace", "value": {"nickName": None, "phoneNumbers": []}})
    document = scim.get(f"/Users/{user_id}").get_json()
    assert "title" not in document and "nickName" not in document and "phoneNumbers" not in document
    assert "givenName" not in document["name"] and "manager" not in document[ENTERPRISE]


@pytest.mark.parametrize("example", ["rfc7643-8.2-user-full_representation", "rfc7643-8.3-user-enterprise_extension"])
def test_rfc_full_user_examples_read_back(scim, boss, example):
    """RFC 7643 §8.2 and §8.3 posted as printed (their id, meta and groups are readOnly and
    ignored; the password is accepted and never returned). Differences by design: the
    manager's value must name a user of the organisation (the example's id is replaced by one),
    and its $ref is the absolute URL the service provider computes (RFC 7643 §2.3.7)."""
    body = copy.deepcopy(load_rfc_example(example)["body"])
    if ENTERPRISE in body:
        body[ENTERPRISE]["manager"]["value"] = boss
    created = scim.post("/Users", body)
    assert created.status_code == 201, created.get_json()
    expected = {key: value for key, value in body.items() if key not in ("id", "meta", "groups", "schemas", "password")}
    if ENTERPRISE in expected:
        expected[ENTERPRISE]["manager"]["$ref"] = f"{BASE}/Users/{boss}"
    got = scim.get(f"/Users/{created.get_json()['id']}").get_json()
    assert {key: value for key, value in got.items() if key not in SERVER_SIDE} == expected
    assert got["schemas"] == body["schemas"] + [ALLY]
    assert got[ALLY] == {"status": "invited"}  # bjensen@example.com is outside acme.example
