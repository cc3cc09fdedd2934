"""/Bulk (RFC 7644 §3.7) through the same handlers as the single endpoints."""
from __future__ import annotations

import json

import pytest

from tests.scim import testapp
from tests import idp_fixtures as fx
from tests.helpers import assert_scim_error

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def bulk(api, *operations, **extra):
    return api.post("/Bulk", {"schemas": [BULK], "Operations": list(operations), **extra})


@pytest.mark.parametrize("reverse", [False, True])
def test_bulk_id_references_resolve_in_any_order(api, reverse):
    """RFC 7644 §3.7.2: "bulkId" references are resolved whatever the order of operations
    (the RFC's request, and the same with the group first)."""
    request = fx.load_rfc_example("rfc7644-3.7.2-bulk-request")["body"]
    if reverse:
        request["Operations"].reverse()
    response = api.post("/Bulk", request)
    body = response.get_json()
    assert response.status_code == 200 and body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]
    user_result, group_result = body["Operations"]
    assert (user_result["bulkId"], user_result["status"]) == ("qwerty", "201")
    assert (group_result["bulkId"], group_result["status"]) == ("ytrewq", "201")
    user_id = user_result["location"].rsplit("/", 1)[1]
    group = api.get(group_result["location"].replace("https://scim.test/scim/v2", "")).get_json()
    assert [m["value"] for m in group["members"]] == [user_id]
    assert group_result["version"] == 'W/"1"'


def test_circular_references_are_409(api):
    """RFC 7644 §3.7.1: circular bulkId references cannot be resolved."""
    body = api.post("/Bulk", fx.load_rfc_example("rfc7644-3.7.1-bulk-circular_request")["body"]).get_json()
    statuses = [(op["status"], op["response"]["detail"]) for op in body["Operations"]]
    assert statuses[0] == ("409", "bulkId 'ytrewq' is part of a circular reference between operations.")
    assert statuses[1][0] == "400" and "refers to an operation that failed" in statuses[1][1]
    assert testapp.Team.select().count() == 0


def test_each_operation_reports_its_status(api):
    existing = api.create_user("kept")["id"]
    gone = api.create_user("gone")["id"]
    body = bulk(api,
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"schemas": [USER], "userName": "new"}},
                {"method": "PATCH", "path": f"/Users/{existing}", "version": 'W/"1"',
                 "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations": [{"op": "replace", "path": "title", "value": "t"}]}},
                {"method": "PUT", "path": "/Users/bulkId:a", "data": {"schemas": [USER], "userName": "renamed"}},
                {"method": "DELETE", "path": f"/Users/{gone}"},
                {"method": "POST", "path": "/Users", "data": {"schemas": [USER], "userName": "KEPT"}},
                {"method": "GET", "path": f"/Users/{existing}"},
                {"method": "POST", "path": "/Devices", "data": {}},
                {"method": "PATCH", "path": "/Users/bulkId:nowhere", "data": {}}).get_json()
    assert [op["status"] for op in body["Operations"]] == ["201", "200", "200", "204", "409", "405", "404", "400"]
    assert body["Operations"][4]["response"]["scimType"] == "uniqueness"
    assert body["Operations"][7]["response"]["detail"] == "bulkId 'nowhere' is not defined by a POST operation in this request."
    assert api.get(f"/Users/{existing}").get_json()["title"] == "t"
    assert api.get(f"/Users/{gone}").status_code == 404


@pytest.mark.parametrize("bulk_id", [["a"], {"a": 1}, 7])
def test_a_bulk_id_that_is_not_a_string_fails_only_its_operation(api, bulk_id):
    """Found by the generated-request tests: an unhashable bulkId was a 500 for the whole request."""
    body = bulk(api, {"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": {"schemas": [USER], "userName": "odd"}},
                {"method": "POST", "path": "/Users", "data": {"schemas": [USER], "userName": "fine"}}).get_json()
    assert [op["status"] for op in body["Operations"]] == ["400", "201"]
    assert body["Operations"][0]["response"]["scimType"] == "invalidSyntax"
    assert body["Operations"][0]["response"]["detail"] == "'bulkId' must be a string."


def test_a_repeated_bulk_id_fails_only_the_operation_that_repeats_it(api):
    """RFC 7644 §3.7: bulkId is "unique within a bulk request". The repeat used to mark the id as
    failed, so an operation referring to the first, created resource was refused."""
    body = bulk(api, {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"schemas": [USER], "userName": "first"}},
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"schemas": [USER], "userName": "again"}},
                {"method": "PATCH", "path": "/Users/bulkId:a",
                 "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations": [{"op": "replace", "path": "title", "value": "t"}]}}).get_json()
    assert [op["status"] for op in body["Operations"]] == ["201", "400", "200"]
    assert body["Operations"][1]["response"]["detail"] == \
        "bulkId 'a' is used by an earlier operation of this request; each must be unique."
    assert body["Operations"][2]["location"] == body["Operations"][0]["location"]
    assert [u["userName"] for u in api.get("/Users").get_json()["Resources"]] == ["first"]


@pytest.mark.parametrize("version", [1, True, [], {}, 1.5])
@pytest.mark.parametrize("method", ["DELETE", "PATCH", "PUT"])
def test_a_version_that_is_not_a_string_fails_only_its_operation(api, method, version):
    """Found by the generated-request tests: a number as the version was a 500 for its operation."""
    user = api.create_user("versioned")["id"]
    data = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": "t"}]} if method == "PATCH" else \
        {"schemas": [USER], "userName": "versioned"}
    body = bulk(api, {"method": method, "path": f"/Users/{user}", "version": version, "data": data},
                {"method": "POST", "path": "/Users", "data": {"schemas": [USER], "userName": "fine"}}).get_json()
    assert [op["status"] for op in body["Operations"]] == ["400", "201"]
    assert body["Operations"][0]["response"]["scimType"] == "invalidSyntax"
    assert body["Operations"][0]["response"]["detail"].startswith("The operation's 'version' must be a string")
    assert api.get(f"/Users/{user}").status_code == 200


def test_fail_on_errors_stops_the_rest(api):
    """RFC 7644 §3.7.3: after failOnErrors errors, the remaining operations are not performed."""
    bad = {"method": "POST", "path": "/Users", "data": {"schemas": [USER]}}
    good = {"method": "POST", "path": "/Users", "data": {"schemas": [USER], "userName": "late"}}
    body = bulk(api, bad, bad, good, failOnErrors=2).get_json()
    assert [op["status"] for op in body["Operations"]] == ["400", "400"]
    assert api.get("/Users").get_json()["totalResults"] == 0


def test_limits_are_413(api, scim_db):
    """RFC 7644 §3.7.4: more than maxOperations, or more than maxPayloadSize, is 413."""
    app = testapp.make_app(scim_db, bulk_max_operations=2, bulk_max_payload_bytes=300, max_body=10_000)
    client = app.test_client()
    op = {"method": "DELETE", "path": "/Users/x"}
    response = client.post("/scim/v2/Bulk", data=json.dumps({"schemas": [BULK], "Operations": [op] * 3}),
                           headers={"Content-Type": "application/scim+json"})
    assert_scim_error(response, 413, None, "The number of operations exceeds the maxOperations (2).")
    response = client.post("/scim/v2/Bulk", data=json.dumps({"schemas": [BULK], "Operations": [op], "pad": "x" * 400}),
                           headers={"Content-Type": "application/scim+json"})
    assert_scim_error(response, 413, None, "The size of the bulk operation exceeds the maxPayloadSize (300).")


def test_malformed_bulk_requests(api):
    assert_scim_error(api.post("/Bulk", {"Operations": []}), 400, "invalidSyntax", "A bulk body must have")
    assert_scim_error(bulk(api), 400, "invalidSyntax", "'Operations' must be a non-empty array.")
    assert_scim_error(bulk(api, {"method": "DELETE", "path": "/Users/x"}, failOnErrors=0), 400, "invalidValue",
                      "'failOnErrors' must be a positive integer.")
    body = bulk(api, "nope", {"method": "POST"}).get_json()
    assert [op["response"]["detail"] for op in body["Operations"]] == [
        "Each bulk operation must be a JSON object.", "Each bulk operation needs a 'path' such as /Users or /Users/{id}."]
