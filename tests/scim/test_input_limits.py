"""Protocol-level input limits (scim.limits, scim.media, scim.filter_ast, scim.listing): text no
database stores, numbers out of range, oversized JSON shapes, over-complex filters and huge
paging numbers are clear 400/413 SCIM errors or clamped, never a 500 from the driver. The
test app runs over SQLite and PostgreSQL (which refuses NUL in text)."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from scim.filter_ast import MAX_TERMS
from scim.media import MAX_ARRAY_ITEMS, MAX_OBJECT_KEYS
from tests.helpers import Api, assert_scim_error
from tests.scim import testapp

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def user_body(user_name: str) -> str:
    """A create body written by hand, so JSON escapes reach the server as sent."""
    return '{"schemas": ["%s"], "userName": "%s"}' % (USER, user_name)


@pytest.mark.parametrize("escape,found", [("\\u0000", "a NUL character"), ("\\ud800", "a lone surrogate")])
def test_bad_characters_in_a_body_are_400(api, escape, found):
    assert_scim_error(api.post("/Users", user_body(f"x{escape}y")), 400, "invalidValue", found)
    body = '{"schemas": ["%s"], "userName": "k", "name": {"given%sName": "g"}}' % (USER, escape)
    refused = assert_scim_error(api.post("/Users", body), 400, "invalidValue", "The key 'given")
    assert found in refused["detail"]


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udfff"])
def test_bad_characters_in_filter_values_are_400_invalid_filter(api, escape):
    text = f'userName eq "a{escape}b"'
    assert_scim_error(api.get(f"/Users?filter={quote(text)}"), 400, "invalidFilter", "which is not allowed")
    search = json.dumps({"schemas": [SEARCH], "filter": text})
    assert_scim_error(api.post("/Users/.search", search), 400, "invalidFilter", "which is not allowed")


def test_nul_in_the_url_is_400(api):
    user = api.create_user("kim")
    assert_scim_error(api.get("/Users/a%00b"), 400, "invalidValue", "The request path contains a NUL character")
    assert_scim_error(api.get('/Users?filter=userName eq "a%00b"'), 400, "invalidValue",
                      "The query parameter 'filter' contains a NUL character")
    assert_scim_error(api.get(f"/Users/{user['id']}?attributes=user%00Name"), 400, "invalidValue",
                      "The query parameter 'attributes'")


def test_nul_in_a_patch_path_filter_is_400(api):
    user = api.create_user("kim")
    operation = {"op": "replace", "path": 'emails[type eq "w\\u0000"].value', "value": "k@example.com"}
    response = api.patch(f"/Users/{user['id']}", {"schemas": [PATCH], "Operations": [operation]})
    assert_scim_error(response, 400, "invalidPath", "a NUL character")


@pytest.mark.parametrize("number", ["1e400", "-1e400", "9" * 30, "-" + "9" * 4000])
def test_numbers_out_of_range_are_400(api, number):
    body = '{"schemas": ["%s"], "userName": "kim", "x": %s}' % (USER, number)
    assert_scim_error(api.post("/Users", body), 400, "invalidValue", "in the request body is out of range")


def test_search_count_out_of_range_is_400(api):
    body = '{"schemas": ["%s"], "count": 1e400}' % SEARCH
    assert_scim_error(api.post("/Users/.search", body), 400, "invalidValue", "The number 1e400")


@pytest.fixture
def big_api(scim_db):
    """The test app with room for bodies of a few megabytes."""
    app = testapp.make_app(scim_db, max_body=4_000_000)
    app.config["TESTING"] = True
    return Api(app.test_client())


def test_too_many_keys_in_one_object_is_413(big_api):
    body = {"schemas": [USER], "userName": "kim", "extra": {f"k{i}": i for i in range(MAX_OBJECT_KEYS + 1)}}
    assert_scim_error(big_api.post("/Users", body), 413, None, f"at most {MAX_OBJECT_KEYS} are allowed")


def test_too_many_items_in_one_array_is_413(big_api):
    body = {"schemas": [USER], "userName": "kim", "emails": [0] * (MAX_ARRAY_ITEMS + 1)}
    assert_scim_error(big_api.post("/Users", body), 413, None, f"at most {MAX_ARRAY_ITEMS} are allowed")


def test_filters_with_too_many_terms_are_400_naming_the_limit(api):
    comparisons = MAX_TERMS // 2 + 1
    text = " or ".join(f'userName eq "u{i}"' for i in range(comparisons))
    assert_scim_error(api.get(f"/Users?filter={quote(text)}"), 400, "invalidFilter",
                      f"The filter has {2 * comparisons - 1} comparisons and logical operators; "
                      f"at most {MAX_TERMS} are allowed.")
    allowed = " or ".join(f'userName eq "u{i}"' for i in range(MAX_TERMS // 2))
    assert api.get(f"/Users?filter={quote(allowed)}").status_code == 200


def test_huge_start_index_is_an_empty_page_and_huge_count_the_largest_page(api):
    """RFC 7644 §3.4.2.4: a count over the maximum is the maximum; a startIndex past every
    result is an empty page (the number is clamped, never handed to the database as is)."""
    api.create_user("kim")
    body = api.get("/Users?startIndex=99999999999999999999").get_json()
    assert (body["totalResults"], body["Resources"]) == (1, [])
    for count in ("99999999999999999999", "9" * 5000):
        assert api.get(f"/Users?count={count}").get_json()["itemsPerPage"] == 1
    assert_scim_error(api.get("/Users?count=1e400"), 400, "invalidValue", "'count' must be an integer, not '1e400'.")
