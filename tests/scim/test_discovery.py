"""Discovery endpoints (RFC 7644 §4; RFC 7643 §5-7), built from the one attribute table."""
from __future__ import annotations

from tests.helpers import assert_scim_error

BASE = "https://scim.test/scim/v2"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_service_provider_config_is_truthful(api):
    body = api.get("/ServiceProviderConfig").get_json()
    assert body["patch"] == {"supported": True}
    assert body["bulk"] == {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576}
    assert body["filter"] == {"supported": True, "maxResults": 1000}
    assert body["changePassword"] == {"supported": False}
    assert body["sort"] == {"supported": True} and body["etag"] == {"supported": True}
    assert [s["type"] for s in body["authenticationSchemes"]] == ["oauthbearertoken"]
    assert body["meta"]["location"] == f"{BASE}/ServiceProviderConfig"


def test_resource_types(api):
    body = api.get("/ResourceTypes").get_json()
    assert body["totalResults"] == 2 and [r["id"] for r in body["Resources"]] == ["User", "Group"]
    user = api.get("/ResourceTypes/User").get_json()
    assert user["endpoint"] == "/Users" and user["schema"] == "urn:ietf:params:scim:schemas:core:2.0:User"
    assert user["schemaExtensions"][0] == {"schema": ENTERPRISE, "required": False}
    assert user["meta"] == {"resourceType": "ResourceType", "location": f"{BASE}/ResourceTypes/User"}
    assert_scim_error(api.get("/ResourceTypes/Device"), 404, None, "No resource type 'Device'.")


def test_schemas_come_from_the_attribute_table(api):
    """RFC 7643 §7: userName is required and caseExact=false, password writeOnly/never, groups
    readOnly, manager complex with a readOnly displayName; extensions are listed too."""
    body = api.get("/Schemas").get_json()
    ids = [s["id"] for s in body["Resources"]]
    assert ids == ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE,
                   "urn:ally:params:scim:schemas:extension:ally:2.0:User",
                   "urn:ietf:params:scim:schemas:core:2.0:Group",
                   "urn:ally:params:scim:schemas:extension:ally:2.0:Group"]
    user = {a["name"]: a for a in api.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").get_json()["attributes"]}
    assert user["userName"] == {"name": "userName", "type": "string", "multiValued": False,
                                "description": "Unique identifier for the user, used to sign in.", "required": True,
                                "caseExact": False, "mutability": "readWrite", "returned": "default", "uniqueness": "server"}
    assert (user["password"]["mutability"], user["password"]["returned"]) == ("writeOnly", "never")
    assert user["groups"]["mutability"] == "readOnly"
    assert [s["name"] for s in user["emails"]["subAttributes"]] == ["value", "display", "type", "primary"]
    enterprise = api.get(f"/Schemas/{ENTERPRISE}").get_json()
    manager = next(a for a in enterprise["attributes"] if a["name"] == "manager")
    assert manager["type"] == "complex" and manager["multiValued"] is False
    assert {s["name"]: s["mutability"] for s in manager["subAttributes"]} == {"value": "readWrite", "$ref": "readWrite",
                                                                              "displayName": "readOnly"}
    assert enterprise["meta"]["location"] == f"{BASE}/Schemas/{ENTERPRISE}"
    assert_scim_error(api.get("/Schemas/urn:nope"), 404, None, "No schema 'urn:nope'.")


def test_filters_on_discovery_are_403(api):
    """RFC 7644 §4: a filter on these endpoints is answered with 403."""
    assert_scim_error(api.get("/Schemas?filter=id+pr"), 403, None, "Filtering is not supported on discovery endpoints")
