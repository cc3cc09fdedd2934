"""The fixture loader's matching, capture and request building, on small inline examples."""
from __future__ import annotations

import pytest

from tests import idp_fixtures as fx


def test_scenarios_are_listed_per_idp():
    okta, entra = fx.scenario_paths("okta"), fx.scenario_paths("entra")
    assert okta and entra
    assert fx.scenario_paths() == sorted(okta + entra)
    assert fx.scenario_id(okta[0]).startswith("okta/")
    assert fx.load_scenario(fx.scenario_id(okta[0]))["idp"] == "okta"
    with pytest.raises(fx.FixtureError, match="unknown IdP"):
        fx.scenario_paths("onelogin")


def test_rfc_examples_load_by_name():
    example = fx.load_rfc_example("rfc7644-3.5.2.1-patch_op-add_members")
    assert example["method"] == "PATCH"
    assert example["body"]["Operations"][0]["path"] == "members"


def test_substitute_keeps_type_of_a_whole_placeholder_and_formats_embedded_ones():
    bindings = {"user.id": "u-1", "count": 3}
    assert fx.substitute({"value": "{{user.id}}", "n": "{{count}}"}, bindings) == {"value": "u-1", "n": 3}
    assert fx.substitute('members[value eq "{{user.id}}"]', bindings) == 'members[value eq "u-1"]'
    assert fx.placeholders({"a": ["{{x}} and {{y.z}}"], "{{k}}": 1}) == {"x", "y.z", "k"}


def test_substitute_refuses_unknown_and_reserved_names():
    with pytest.raises(fx.FixtureError, match="not captured"):
        fx.substitute("/Users/{{user.id}}", {})
    with pytest.raises(fx.FixtureError, match="only appear in an expected response"):
        fx.substitute("{{any}}", {})


def test_request_for_fills_path_query_and_body():
    step = {"method": "PATCH", "path": "/Groups/{{group.id}}", "headers": {"User-Agent": "Okta SCIM Client 1.0.0"},
            "query": {"filter": 'userName eq "a@acme.example"', "count": "100"},
            "request": {"Operations": [{"op": "remove", "path": 'members[value eq "{{user.id}}"]'}]}}
    request = fx.request_for(step, {"group.id": "g1", "user.id": "u1"})
    assert request["url"] == "/scim/v2/Groups/g1?filter=userName%20eq%20%22a%40acme.example%22&count=100"
    assert request["json"]["Operations"][0]["path"] == 'members[value eq "u1"]'
    assert request["headers"] == {"User-Agent": "Okta SCIM Client 1.0.0"}
    assert fx.request_for({"method": "GET", "path": "/Users"}, {})["json"] is None


def test_match_subset_allows_extra_keys_but_not_missing_ones():
    fx.match_subset({"id": "1"}, {"id": "1", "userName": "a"}, {})
    with pytest.raises(fx.FixtureMismatch, match=r"\$: missing 'active'"):
        fx.match_subset({"active": True}, {"id": "1"}, {})


def test_match_subset_is_strict_about_json_types():
    """Okta: 'itemsPerPage, startIndex, and totalResults values need to be exchanged as integers'."""
    with pytest.raises(fx.FixtureMismatch, match="totalResults"):
        fx.match_subset({"totalResults": 1}, {"totalResults": "1"}, {})
    with pytest.raises(fx.FixtureMismatch):
        fx.match_subset({"active": False}, {"active": "False"}, {})
    with pytest.raises(fx.FixtureMismatch):
        fx.match_subset({"count": 1}, {"count": True}, {})


def test_match_subset_lists_have_equal_length_in_any_order():
    actual = [{"value": "u2", "display": "b"}, {"value": "u1"}]
    fx.match_subset([{"value": "u1"}, {"value": "u2"}], actual, {})
    with pytest.raises(fx.FixtureMismatch, match="expected 1 items, got 2"):
        fx.match_subset([{"value": "u1"}], actual, {})
    with pytest.raises(fx.FixtureMismatch, match="do not match"):
        fx.match_subset([{"value": "u1"}, {"value": "u1"}], actual, {})
    fx.match_subset([], [], {})


def test_match_subset_placeholders():
    fx.match_subset({"id": "{{user.id}}", "meta": fx.ANY}, {"id": "u1", "meta": {}}, {"user.id": "u1"})
    with pytest.raises(fx.FixtureMismatch, match=r"\$.id: expected 'u1'"):
        fx.match_subset({"id": "{{user.id}}"}, {"id": "u2"}, {"user.id": "u1"})
    with pytest.raises(fx.FixtureMismatch, match="missing 'meta'"):
        fx.match_subset({"meta": fx.ANY}, {}, {})


def test_assert_absent_treats_empty_as_absent_and_fans_out_over_lists():
    fx.assert_absent({"members": [], "title": None, "x": ""}, ["/members", "/title", "/x", "/password"])
    fx.assert_absent({"Resources": [{"id": "1"}, {"id": "2", "members": []}]}, ["/Resources/*/members"])
    with pytest.raises(fx.FixtureMismatch, match="/Resources/\\*/members must be absent"):
        fx.assert_absent({"Resources": [{"id": "1"}, {"members": [{"value": "u"}]}]}, ["/Resources/*/members"])
    with pytest.raises(fx.FixtureMismatch, match="/password"):
        fx.assert_absent({"password": "secret"}, ["/password"])


def test_resolve_follows_json_pointer_escapes_and_urn_keys():
    doc = {"a/b": 1, "urn:x:2.0:User": {"manager": {"value": "m"}}, "list": [{"id": "x"}]}
    assert fx.resolve(doc, "/a~1b") == [1]
    assert fx.resolve(doc, "/urn:x:2.0:User/manager/value") == ["m"]
    assert fx.resolve(doc, "/list/0/id") == ["x"]
    assert fx.resolve(doc, "/list/3/id") == []
    with pytest.raises(fx.FixtureError, match="not a JSON Pointer"):
        fx.resolve(doc, "list")


def test_check_response_checks_status_body_and_captures():
    step = {"status": 201, "response": {"id": fx.ANY}, "absent": ["/password"], "capture": {"user.id": "/id"}}
    bindings: dict = {}
    fx.check_response(step, 201, {"id": "u1", "userName": "a"}, bindings)
    assert bindings == {"user.id": "u1"}
    with pytest.raises(fx.FixtureMismatch, match="status 200, expected 201"):
        fx.check_response(step, 200, {"id": "u1"}, {})
    with pytest.raises(fx.FixtureMismatch, match="/password must be absent"):
        fx.check_response(step, 201, {"id": "u1", "password": "p"}, {})
    with pytest.raises(fx.FixtureMismatch, match="came without the body"):
        fx.check_response(step, 201, None, {})


def test_check_response_with_200_or_204():
    step = {"status": [200, 204], "response": {"id": "g1"}, "absent": ["/members"]}
    fx.check_response(step, 204, None, {})
    fx.check_response(step, 200, {"id": "g1"}, {})
    with pytest.raises(fx.FixtureMismatch, match="/members must be absent"):
        fx.check_response(step, 200, {"id": "g1", "members": [{"value": "u1"}]}, {})
    with pytest.raises(fx.FixtureMismatch, match="204 No Content came with a body"):
        fx.check_response(step, 204, {"id": "g1"}, {})


def test_capture_needs_exactly_one_value():
    with pytest.raises(fx.FixtureMismatch, match="capture 'user.id'"):
        fx.capture({"capture": {"user.id": "/id"}}, {"userName": "a"}, {})
