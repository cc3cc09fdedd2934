"""Paging, sorting and projection (RFC 7644 §3.4.2.3-§3.4.2.5, §3.4.3, §3.9)."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from playhouse.test_utils import assert_query_count

from tests.helpers import assert_scim_error


@pytest.fixture
def users(api):
    names = ["delta", "Alpha", "charlie", "bravo", "echo", "Alpha2"]
    return [api.create_user(n, title=t)["id"] for n, t in zip(names, ["b", "a", "b", None, "a", "c"])]


def page(api, query):
    response = api.get(f"/Users?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_pages_are_stable_and_integers(api, users):
    """RFC 7644 §3.4.2.4: startIndex is 1-based; totalResults, itemsPerPage and startIndex are
    integers (Okta pages with startIndex/count and needs a stable order)."""
    seen = []
    for start in (1, 3, 5):
        body = page(api, f"startIndex={start}&count=2")
        assert (body["totalResults"], body["itemsPerPage"], body["startIndex"]) == (6, 2, start)
        seen += [r["id"] for r in body["Resources"]]
    assert seen == users
    last = page(api, "startIndex=6&count=2")  # a page that is not full tells the total itself
    assert (last["totalResults"], last["itemsPerPage"]) == (6, 1)
    assert page(api, "startIndex=7&count=2")["Resources"] == []
    assert page(api, "startIndex=7&count=2")["totalResults"] == 6


def test_start_index_below_one_and_count_bounds(api, users):
    """RFC 7644 §3.4.2.4: "A value less than 1 SHALL be interpreted as 1"; a negative count is
    0; count=0 gives only totalResults; count is capped at maxResults."""
    body = page(api, "startIndex=-3&count=1")
    assert body["startIndex"] == 1 and [r["id"] for r in body["Resources"]] == users[:1]
    body = page(api, "count=0")
    assert (body["totalResults"], body["itemsPerPage"], body["Resources"]) == (6, 0, [])
    assert page(api, "count=-5")["itemsPerPage"] == 0
    assert page(api, "count=100000")["itemsPerPage"] == 6


@pytest.mark.parametrize("query,detail", [
    ("startIndex=one", "'startIndex' must be an integer, not 'one'."),
    ("count=1.5", "'count' must be an integer, not '1.5'."),
    ("sortOrder=sideways", "'sortOrder' must be 'ascending' or 'descending', not 'sideways'."),
    ("sortBy=emails", "Sorting by the multi-valued attribute 'emails' is not supported."),
    ("sortBy=nickName", "Sorting by 'nickName' is not supported."),
    ("sortBy=nope", "The attribute 'nope' is not defined for User."),
])
def test_bad_list_parameters(api, users, query, detail):
    assert_scim_error(api.get(f"/Users?{query}"), 400, "invalidValue", detail)


def test_sorting(api, users):
    """RFC 7644 §3.4.2.3: sortBy/sortOrder; caseExact=false text sorts without regard to case;
    equal values keep a stable tie-breaker order."""
    names = lambda q: [r["userName"] for r in page(api, q)["Resources"]]
    assert names("sortBy=userName") == ["Alpha", "Alpha2", "bravo", "charlie", "delta", "echo"]
    assert names("sortBy=USERNAME&sortOrder=Descending") == ["echo", "delta", "charlie", "bravo", "Alpha2", "Alpha"]
    assert names("sortBy=title") == ["Alpha", "echo", "delta", "charlie", "Alpha2", "bravo"]
    assert names("sortBy=title&startIndex=2&count=2") == ["echo", "delta"]


def test_projection(api, users):
    """RFC 7644 §3.9: "attributes" returns those plus returned=always (id, schemas);
    "excludedAttributes" removes from the default set; sub-attributes are honoured."""
    uid = api.create_user("frank", name={"givenName": "Frank", "familyName": "Ng"},
                          emails=[{"value": "f@x.org", "type": "work"}], password="pw")["id"]
    body = api.get(f"/Users/{uid}?attributes=name.givenName,emails.value").get_json()
    assert body == {"schemas": body["schemas"], "id": uid, "name": {"givenName": "Frank"}, "emails": [{"value": "f@x.org"}]}
    body = api.get(f"/Users/{uid}?excludedAttributes=name.familyName,emails,id,meta").get_json()
    assert body["name"] == {"givenName": "Frank"} and "emails" not in body and "meta" not in body and body["id"] == uid
    body = api.get(f"/Users/{uid}?attributes=password,urn:ally:params:scim:schemas:extension:ally:2.0:User:status").get_json()
    assert body == {"schemas": body["schemas"], "id": uid,
                    "urn:ally:params:scim:schemas:extension:ally:2.0:User": {"status": "active"}}
    body = page(api, "filter=" + quote('userName eq "frank"') + "&attributes=userName")
    assert body["Resources"] == [{"schemas": body["Resources"][0]["schemas"], "id": uid, "userName": "frank"}]


def test_search_endpoints(api, users):
    """RFC 7644 §3.4.3: POST /.search with a SearchRequest, per type and at the root."""
    api.create_group("alpha team")
    request = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
               "filter": 'userName sw "a"', "attributes": ["userName"], "startIndex": 1, "count": 10,
               "sortBy": "userName"}
    body = api.post("/Users/.search", request).get_json()
    assert [r["userName"] for r in body["Resources"]] == ["Alpha", "Alpha2"]
    root = api.post("/.search", {"schemas": request["schemas"], "filter": 'displayName co "alpha"'}).get_json()
    assert [r["meta"]["resourceType"] for r in root["Resources"]] == ["Group"]
    root = api.post("/.search", {"schemas": request["schemas"], "count": 4, "startIndex": 5}).get_json()
    assert root["totalResults"] == 7 and [r["meta"]["resourceType"] for r in root["Resources"]] == ["User", "User", "Group"]
    assert_scim_error(api.post("/.search", {"schemas": request["schemas"], "filter": 'nope eq "x"'}), 400, "invalidFilter",
                      "The attribute 'nope' is not defined for User.")
    assert_scim_error(api.post("/Users/.search", {"filter": "x"}), 400, "invalidSyntax", "A search body must have")
    assert_scim_error(api.post("/Users/.search", {**request, "count": "ten"}), 400, "invalidValue",
                      "'count' must be an integer, not 'ten'.")


def test_listing_reads_no_row_at_a_time(api, scim_db, users):
    """One SELECT per page, however many rows, and a COUNT only when the page does not tell the
    total (a full page, or one past the end); users' groups and groups' members are loaded for
    the whole page in one more query, and not at all when excluded."""
    for n in range(4):
        api.create_group(f"team {n}", members=users[:3])
    with assert_query_count(2):
        assert page(api, "count=100")["itemsPerPage"] == 6
    with assert_query_count(1):
        assert page(api, "count=100&excludedAttributes=groups")["itemsPerPage"] == 6
    with assert_query_count(2):
        assert page(api, "count=6&excludedAttributes=groups")["totalResults"] == 6
    with assert_query_count(2):
        assert page(api, "startIndex=10&excludedAttributes=groups")["totalResults"] == 6
    with assert_query_count(2):
        assert len(api.get("/Groups").get_json()["Resources"]) == 4
    with assert_query_count(1):
        body = api.get("/Groups?excludedAttributes=members").get_json()
    assert all("members" not in r for r in body["Resources"])


def test_an_extension_urn_alone_selects_the_whole_extension():
    """RFC 7644 §3.10: an extension's attributes are named with the schema URN as prefix; the
    URN alone names the extension's complex container, so all of its attributes."""
    from scim import core_schemas, paths
    from scim.errors import InvalidValue
    from scim.resources import Extension, ResourceType

    rt = ResourceType(name="User", endpoint="/Users", schema=core_schemas.USER, backend=None, filter_map={},
                      extensions=(Extension(core_schemas.ENTERPRISE_USER),))
    urn = core_schemas.ENTERPRISE_USER.id
    keys = [p.key for p in paths.parse_list(f"userName,{urn.upper()}", rt, error=InvalidValue)]
    assert keys[0] == "userName"
    assert f"{urn}:manager" in keys and f"{urn}:department" in keys
