"""/Bulk over the real connector (RFC 7644 §3.7): the operations go through the same Users and
Groups backends, and so through the Ally directory's rules, as the single endpoints."""
import json

import pytest

from connector.models import AuditEvent, Membership, User
from tests.helpers import assert_scim_error
from tests.idp_fixtures import load_rfc_example

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ALLY_GROUP = "urn:ietf:params:scim:schemas:extension:ally:2.0:Group"


def bulk(scim, operations, **extra):
    response = scim.post("/Bulk", {"schemas": [BULK], "Operations": operations, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["Operations"]


def create_user(bulk_id, user_name):
    return {"method": "POST", "path": "/Users", "bulkId": bulk_id,
            "data": {"schemas": [USER], "userName": user_name,
                     "emails": [{"value": user_name, "type": "work", "primary": True}]}}


def test_rfc7644_3_7_2_user_and_group_referring_to_it(scim):
    """RFC 7644 §3.7.2: "The service provider MUST try to resolve bulkIds" — the group's member
    "bulkId:qwerty" becomes the id of the user created in the same request."""
    body = load_rfc_example("rfc7644-3.7.2-bulk-request")["body"]
    results = scim.post("/Bulk", body).get_json()["Operations"]
    assert [result["status"] for result in results] == ["201", "201"]
    user_id = results[0]["location"].rsplit("/", 1)[1]
    group = scim.get(results[1]["location"].split("/scim/v2", 1)[1] + "?attributes=members").get_json()
    assert [member["value"] for member in group["members"]] == [user_id]


def test_a_team_and_sub_team_created_before_their_members(scim):
    """Operations run once what they refer to exists, whatever their order in the request."""
    operations = [
        {"method": "POST", "path": "/Groups", "bulkId": "sub",
         "data": {"schemas": [GROUP, ALLY_GROUP], "displayName": "Platform",
                  "members": [{"value": "bulkId:ann"}],
                  ALLY_GROUP: {"parent": {"value": "bulkId:eng"}}}},
        {"method": "POST", "path": "/Groups", "bulkId": "eng",
         "data": {"schemas": [GROUP], "displayName": "Engineering",
                  "members": [{"value": "bulkId:ann"}, {"value": "bulkId:bob"}]}},
        create_user("ann", "ann@acme.example"),
        create_user("bob", "bob@acme.example"),
    ]
    results = bulk(scim, operations)
    assert sorted(result["status"] for result in results) == ["201"] * 4
    by_id = {result["bulkId"]: result["location"].rsplit("/", 1)[1] for result in results}
    platform = scim.get(f"/Groups/{by_id['sub']}?attributes=members,{ALLY_GROUP}").get_json()
    assert platform[ALLY_GROUP]["parent"]["value"] == by_id["eng"]
    assert [m["value"] for m in platform["members"]] == [by_id["ann"]]
    assert Membership.select().count() == 3


def test_rules_apply_per_operation_and_fail_on_errors_stops_the_rest(scim):
    """RFC 7644 §3.7.3 failOnErrors: "the service provider will stop processing the bulk
    operation after that number of errors"."""
    scim.create_user("ann@acme.example")
    operations = [create_user("dup", "ANN@acme.example"), create_user("c", "cy@acme.example")]
    results = bulk(scim, operations, failOnErrors=1)
    assert len(results) == 1
    assert results[0]["status"] == "409"
    assert results[0]["response"]["scimType"] == "uniqueness"
    assert User.select().count() == 1


def test_patch_and_delete_in_bulk(scim):
    ann = scim.create_user("ann@acme.example")
    bob = scim.create_user("bob@acme.example")
    operations = [
        {"method": "PATCH", "path": f"/Users/{ann['id']}",
         "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                  "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}},
        {"method": "DELETE", "path": f"/Users/{bob['id']}"},
        {"method": "DELETE", "path": "/Users/no-such-user"},
    ]
    results = bulk(scim, operations)
    assert [result["status"] for result in results] == ["200", "204", "404"]
    assert scim.get(f"/Users/{ann['id']}").get_json()["active"] is False
    assert scim.get(f"/Users/{bob['id']}").status_code == 404


def test_bulk_changes_are_audited_as_the_idp(scim):
    bulk(scim, [create_user("a", "ann@acme.example")])
    event = AuditEvent.get(AuditEvent.action == "user.created")
    assert event.actor == "token:Okta"
    assert event.request_id


class TestLimits:
    """RFC 7644 §3.7.4: more operations than maxOperations, or a larger body than
    maxPayloadSize, is 413 and nothing runs."""

    @pytest.fixture
    def config_data(self, config_data):
        config_data["scim"] = {"bulk_max_operations": 2, "bulk_max_payload_bytes": 2000}
        return config_data

    def test_limits_from_the_config_are_advertised_and_enforced(self, scim):
        config = scim.get("/ServiceProviderConfig").get_json()["bulk"]
        assert (config["maxOperations"], config["maxPayloadSize"]) == (2, 2000)
        too_many = [create_user(str(i), f"u{i}@acme.example") for i in range(3)]
        assert_scim_error(scim.post("/Bulk", {"schemas": [BULK], "Operations": too_many}), 413,
                          detail="maxOperations (2)")
        padded = [dict(create_user("x", "x@acme.example"), padding="x" * 2500)]
        assert_scim_error(scim.post("/Bulk", json.dumps({"schemas": [BULK], "Operations": padded})), 413,
                          detail="maxPayloadSize (2000)")
        assert User.select().count() == 0
