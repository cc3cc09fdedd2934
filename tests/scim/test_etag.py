"""ETags (RFC 7644 §3.14): meta.version and the ETag header, If-Match (412), If-None-Match (304)."""
from __future__ import annotations

from scim import etag
from tests.helpers import assert_scim_error

USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice"}


def test_every_single_resource_response_carries_the_etag(api):
    created = api.post("/Users", USER)
    uid = created.get_json()["id"]
    assert created.headers["ETag"] == created.get_json()["meta"]["version"] == 'W/"1"'
    fetched = api.get(f"/Users/{uid}")
    assert fetched.headers["ETag"] == 'W/"1"'
    patched = api.ops(f"/Users/{uid}", {"op": "replace", "path": "title", "value": "x"})
    assert patched.headers["ETag"] == patched.get_json()["meta"]["version"] == 'W/"2"'
    replaced = api.put(f"/Users/{uid}", USER)
    assert replaced.headers["ETag"] == 'W/"3"'


def test_if_none_match_gives_304(api):
    """RFC 7644 §3.14: If-None-Match with the current version → 304 Not Modified, no body."""
    uid = api.post("/Users", USER).get_json()["id"]
    response = api.get(f"/Users/{uid}", headers={"If-None-Match": 'W/"1"'})
    assert response.status_code == 304 and response.get_data() == b"" and response.headers["ETag"] == 'W/"1"'
    assert api.get(f"/Users/{uid}", headers={"If-None-Match": '*'}).status_code == 304
    assert api.get(f"/Users/{uid}", headers={"If-None-Match": 'W/"0", W/"7"'}).status_code == 200


def test_if_match_mismatch_is_412(api):
    """RFC 7644 §3.14: If-Match with an outdated version → 412 Precondition Failed."""
    uid = api.post("/Users", USER).get_json()["id"]
    api.ops(f"/Users/{uid}", {"op": "replace", "path": "title", "value": "x"})
    for send in (lambda h: api.put(f"/Users/{uid}", USER, headers=h),
                 lambda h: api.ops(f"/Users/{uid}", {"op": "replace", "path": "title", "value": "y"}, headers=h),
                 lambda h: api.delete(f"/Users/{uid}", headers=h)):
        assert_scim_error(send({"If-Match": 'W/"1"'}), 412, None, "current version is W/\"2\"")
    assert api.get(f"/Users/{uid}").get_json()["title"] == "x"
    assert api.ops(f"/Users/{uid}", {"op": "replace", "path": "title", "value": "z"}, headers={"If-Match": '*'}).status_code == 200
    assert api.ops(f"/Users/{uid}", {"op": "replace", "path": "title", "value": "w"},
                   headers={"If-Match": 'W/"9", W/"3"'}).status_code == 200
    assert_scim_error(api.ops(f"/Users/{uid}", {"op": "replace", "path": "title", "value": "v"},
                              headers={"If-Match": 'W/"1", W/"2"'}), 412, None, "does not match If-Match")


def test_two_writes_with_the_same_if_match_one_wins(api):
    """Compare-and-set: the second PUT holding the same version gets 412, not a lost update."""
    uid = api.post("/Users", USER).get_json()["id"]
    first = api.put(f"/Users/{uid}", {**USER, "title": "first"}, headers={"If-Match": 'W/"1"'})
    second = api.put(f"/Users/{uid}", {**USER, "title": "second"}, headers={"If-Match": 'W/"1"'})
    assert first.status_code == 200
    assert_scim_error(second, 412)
    assert api.get(f"/Users/{uid}").get_json()["title"] == "first"


def test_header_parsing():
    assert etag.parse_header(None) is None and etag.parse_header("*") is None
    assert etag.parse_header('W/"a", "b",W/"c,d"') == ("a", "b", "c,d")
    assert etag.parse_header("7") == ("7",)
