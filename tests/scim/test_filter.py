"""Filters (RFC 7644 §3.4.2.2) compiled to SQL and run on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.scim import testapp
from tests import idp_fixtures as fx
from tests.helpers import assert_scim_error

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def people(api):
    """Five users with the shapes the filter rules care about."""
    testapp.clock["now"] = datetime(2011, 5, 13, 4, 42, 34)
    made = {
        "bjensen": api.create_user(
            "BJensen", externalId="BJ-1", title="Tour Guide", userType="Employee", active=True,
            name={"givenName": "Barbara", "familyName": "Jensen"},
            emails=[{"value": "bjensen@Example.com", "type": "work", "primary": True},
                    {"value": "babs@jensen.org", "type": "home"}],
            **{ENTERPRISE: {"employeeNumber": "701984", "manager": {"value": "mgr-1"}}}),
        "percent": api.create_user(
            "100%_sure", title="", userType="Intern", active=False,
            name={"familyName": "O'Malley"},
            emails=[{"value": "sure@example.org", "type": "work"}],
            ims=[{"value": "sure@foo.com", "type": "xmpp"}]),
    }
    testapp.clock["now"] = datetime(2012, 1, 1, 0, 0, 0)
    made["plain"] = api.create_user("1000xsure", title="Engineer", active=True, emails=[{"value": "x@example.net", "type": "home"}])
    made["backslash"] = api.create_user("back\\slash", displayName="Back Slash")
    made["nothing"] = api.create_user("nothing")
    testapp.clock["now"] = None
    return {key: user["id"] for key, user in made.items()}


def ids(api, text, **params):
    response = api.get(f"/Users?filter={quote(text)}&count=100" + "".join(f"&{k}={quote(v)}" for k, v in params.items()))
    assert response.status_code == 200, response.get_json()
    return {r["id"] for r in response.get_json()["Resources"]}


def named(people, *keys):
    return {people[k] for k in keys}


@pytest.mark.parametrize("text,expected", [
    ('userName eq "bjensen"', ["bjensen"]),
    ('USERNAME Eq "BJENSEN"', ["bjensen"]),
    ('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "B"', ["bjensen", "backslash"]),
    ('externalId eq "BJ-1"', ["bjensen"]),
    ('externalId eq "bj-1"', []),
    ('name.familyName co "O\'Malley"', ["percent"]),
    ('name.givenName eq "barbara"', ["bjensen"]),
])
def test_case_rules_follow_case_exact(api, people, text, expected):
    """RFC 7644 §3.4.2.2: "When comparing attributes of type String, the case sensitivity for
    String type attributes SHALL be determined by the attribute's "caseExact" characteristic."
    userName and name are caseExact=false; externalId is caseExact=true; attribute names and
    operators match in any case."""
    assert ids(api, text) == named(people, *expected)


@pytest.mark.parametrize("text,expected", [
    ('userName co "%"', ["percent"]),
    ('userName sw "100%"', ["percent"]),
    ('userName co "_"', ["percent"]),
    ('userName sw "100_"', []),
    ('userName ew "_sure"', ["percent"]),
    ('userName co "\\\\"', ["backslash"]),
    ('externalId co "%"', []),
    ('externalId sw "BJ"', ["bjensen"]),
    ('externalId sw "bj"', []),
    ('emails.value ew "EXAMPLE.COM"', ["bjensen"]),
])
def test_wildcards_in_values_are_literal(api, people, text, expected):
    """`%`, `_` and `\\` in co/sw/ew values are plain characters; case-exact attributes stay
    case-sensitive on SQLite too."""
    assert ids(api, text) == named(people, *expected)


def test_present_is_false_for_null_empty_and_no_rows(api, people):
    """RFC 7644 §3.4.2.2 pr: "If the attribute has a non-empty or non-null value, or if it
    contains a non-empty node for complex attributes, there is a match." """
    assert ids(api, "title pr") == named(people, "bjensen", "plain")
    assert ids(api, "emails pr") == named(people, "bjensen", "percent", "plain")
    assert ids(api, "ims pr") == named(people, "percent")
    assert ids(api, "name pr") == named(people, "bjensen", "percent")
    assert ids(api, f"{ENTERPRISE}:manager pr") == named(people, "bjensen")
    assert ids(api, "not (title pr)") == named(people, "percent", "backslash", "nothing")


def test_value_paths_match_within_one_value(api, people):
    """RFC 7644 §3.4.2.2: complex attribute filter grouping; "expressions MUST be applied to
    the same value of a parent attribute"."""
    assert ids(api, 'emails[type eq "work" and value co "@example.com"]') == named(people, "bjensen")
    assert ids(api, 'emails[type eq "home" and value co "@example.com"]') == set()
    assert ids(api, 'emails[not (type eq "work")]') == named(people, "bjensen", "plain")
    assert ids(api, 'emails.type eq "work"') == named(people, "bjensen", "percent")
    assert ids(api, 'emails co "example.org"') == named(people, "percent")
    # Entra: `attr[filter].sub op value` reads as `attr[filter and sub op value]`.
    assert ids(api, 'emails[type eq "work"].value eq "BJENSEN@example.com"') == named(people, "bjensen")
    assert ids(api, 'emails[type eq "home"].value eq "bjensen@example.com"') == set()


@pytest.mark.parametrize("seek, walk", [
    ('emails.value eq "{v}"', 'emails[value eq "{v}" or value eq "{v}"]'),
    ('emails eq "{v}"', 'emails[value eq "{v}" or value eq "{v}"]'),
    ('emails[type eq "work"].value eq "{v}"', 'emails[type eq "work" and (value eq "{v}" or value eq "{v}")]'),
    ('emails[value eq "{v}" and not (type eq "home")]', 'emails[not (type eq "home") and (value eq "{v}" or value eq "{v}")]'),
    ('not (emails[value eq "{v}"])', 'not (emails[value eq "{v}" or value eq "{v}"])'),
    ('userName pr and emails.value eq "{v}"', 'userName pr and emails[value eq "{v}" or value eq "{v}"]'),
])
@pytest.mark.parametrize("v", ["BJENSEN@example.com", "babs@jensen.org", "sure@example.org", "nobody@example.com"])
def test_a_value_found_first_matches_what_a_walk_finds(api, people, seek, walk, v):
    """An `eq` on a multi-valued attribute's value finds the child rows first (`id IN (...)`,
    scim.filter_map.Child); the same filter spelled with an `or` walks the resources with
    EXISTS. Both find the same resources, negated or not."""
    assert ids(api, seek.format(v=v)) == ids(api, walk.format(v=v))
    if v != "nobody@example.com" and seek.startswith(("emails.value", "emails eq")):
        assert ids(api, seek.format(v=v))


def test_logic_and_grouping(api, people):
    """RFC 7644 §3.4.2.2: "not" binds tighter than "and", which binds tighter than "or"."""
    assert ids(api, 'title pr and userType eq "Employee"') == named(people, "bjensen")
    assert ids(api, 'title pr or userType eq "Intern"') == named(people, "bjensen", "percent", "plain")
    assert ids(api, 'userType eq "Intern" or title eq "Engineer" and active eq false') == named(people, "percent")
    assert ids(api, '(userType eq "Intern" or title eq "Engineer") and active eq true') == named(people, "plain")
    assert ids(api, 'userType ne "Employee"') == named(people, "percent", "plain", "backslash", "nothing")
    assert ids(api, 'not (userType eq "Employee")') == named(people, "percent", "plain", "backslash", "nothing")
    assert ids(api, 'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")') \
        == named(people, "plain", "backslash", "nothing")


def test_booleans_and_meta_dates(api, people):
    """RFC 7644 §3.4.2.2: dateTime comparisons are chronological; booleans compare with eq."""
    assert ids(api, "active eq false") == named(people, "percent")
    assert ids(api, 'active eq "True"') == named(people, "bjensen", "plain")
    assert ids(api, 'meta.lastModified gt "2011-05-13T04:42:34Z"') == named(people, "plain", "backslash", "nothing")
    assert ids(api, 'meta.lastModified ge "2011-05-13T04:42:34Z"') == set(people.values())
    assert ids(api, 'meta.created lt "2011-05-13T06:42:34+02:00"') == set()
    assert ids(api, 'meta.created le "2011-05-13T06:42:34+02:00"') == named(people, "bjensen", "percent")


def test_extension_attributes_and_references(api, people):
    """Entra's reference check `id eq "x" and manager eq "y"` compares manager's value."""
    uid = people["bjensen"]
    assert ids(api, f'{ENTERPRISE}:employeeNumber eq "701984"') == {uid}
    assert ids(api, f'id eq "{uid}" and {ENTERPRISE}:manager eq "mgr-1"') == {uid}
    assert ids(api, f'id eq "{uid}" and {ENTERPRISE}:manager eq "mgr-2"') == set()
    assert ids(api, f'{ENTERPRISE}:manager.value eq "mgr-1"') == {uid}
    assert ids(api, 'userName eq null') == set()
    assert ids(api, 'title eq null') == named(people, "percent", "backslash", "nothing")


def test_no_match_is_an_empty_list(api, people):
    """Entra's "Test Connection" filters on a random GUID and needs 200 + an empty list."""
    response = api.get('/Users?filter=userName eq "0b5a0f8e-ffde-4b2e-8a57-cc2e6f1c5b1f"')
    assert response.status_code == 200
    assert response.get_json() == {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                                   "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []}


def test_rfc_filter_examples_all_run(api, people):
    """The filter examples of RFC 7644 §3.4.2.2 Figure 3 and the case-insensitive names; the
    `schemas eq` example is refused (no resource type maps "schemas" for filtering)."""
    examples = fx.load_rfc_example("rfc7644-3.4.2.2-filter-examples")["body"]
    examples += fx.load_rfc_example("rfc7644-3.4.2.2-filter-case_insensitive_names")["body"]
    for text in examples:
        if text.startswith("schemas"):
            assert_scim_error(api.get(f"/Users?filter={quote(text)}"), 400, "invalidFilter",
                              "The attribute 'schemas' is not defined for User.")
        else:
            ids(api, text)
    assert ids(api, 'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]') \
        == named(people, "bjensen", "percent")


def test_group_member_filters(api, people):
    """Entra's group reference check `id eq "g" and members eq "u"` and `members.value eq`."""
    group = api.create_group("Tour Guides", members=[people["bjensen"]])
    api.create_group("Empty")
    found = lambda text: {r["id"] for r in api.get(f"/Groups?filter={quote(text)}").get_json()["Resources"]}
    assert found(f'id eq "{group["id"]}" and members eq "{people["bjensen"]}"') == {group["id"]}
    # found by the member first, or by walking the groups: the same answer
    for member in (people["bjensen"], people["plain"]):
        assert found(f'members eq "{member}"') == found(f'members[value eq "{member}" or value eq "{member}"]')
        assert found(f'not (members eq "{member}")') == found(f'not (members[value eq "{member}" or value eq "x"])')
    assert found(f'members.value eq "{people["plain"]}"') == set()
    assert found('members pr') == {group["id"]}
    assert found('displayName eq "tour guides"') == {group["id"]}
    assert found('members[display co "slash"]') == set()


@pytest.mark.parametrize("text,detail", [
    ('nickname eq "x" or userName eq "y"', "is not mapped"),
    ('foo eq "x"', "The attribute 'foo' is not defined for User."),
    ('userName eq "x" or foo eq "y"', "The attribute 'foo' is not defined for User."),
    ('name.foo eq "x"', "The attribute 'name' has no sub-attribute 'foo'."),
    ('urn:example:unknown:User:foo eq "x"', "The schema 'urn:example:unknown:User' is not a schema of User."),
    ('active gt true', "The operator 'gt' is not supported for boolean attribute 'active'."),
    ('active eq "maybe"', 'The value "maybe" is not a valid boolean for attribute \'active\'.'),
    ('meta.created gt "yesterday"', 'The value "yesterday" is not a valid dateTime for attribute \'created\'.'),
    # an offset that takes it before year 1 in UTC (an OverflowError, once a 500)
    ('meta.lastModified gt "0001-01-01T00:00:00+01:00"',
     'The value "0001-01-01T00:00:00+01:00" is not a valid dateTime for attribute \'lastModified\'.'),
    ('meta.created lt "9999-12-31T23:59:59-01:00"',
     'The value "9999-12-31T23:59:59-01:00" is not a valid dateTime for attribute \'created\'.'),
    ('userName eq 5', "The value 5 is not a valid string for attribute 'userName'."),
    ('active co "t"', "The operator 'co' is not supported for boolean attribute 'active'."),
    ('userName eq', "Invalid filter 'userName eq'"),
    ('userName eq "x" )', "Invalid filter"),
    ('userName ~ "x"', "Illegal character in filter query '~'"),
    ('userName regex "x"', "Invalid filter"),
    ('emails[type[value eq "x"] pr]', "Inside 'emails[...]' only sub-attributes of 'emails' can be compared."),
    ('emails[type eq "work"].nope eq "x"', "The attribute 'emails' has no sub-attribute 'nope'."),
    ('emails[foo eq "x"]', "The attribute 'emails' has no sub-attribute 'foo'."),
    ('password eq "x"', "The attribute 'password' cannot be used in a filter."),
])
def test_bad_filters_are_invalid_filter(api, text, detail):
    """RFC 7644 §3.4.2.2: "Providers MUST decline to filter results if the specified filter
    operation is not recognized and return an HTTP 400 error with a "scimType" error of
    "invalidFilter" and an appropriate human-readable response"."""
    if detail == "is not mapped":
        detail = "The attribute 'nickName' cannot be used in a filter."
    assert_scim_error(api.get(f"/Users?filter={quote(text)}"), 400, "invalidFilter", detail)


def test_overlong_filter(api):
    text = 'userName eq "' + "x" * 5000 + '"'
    assert_scim_error(api.get(f"/Users?filter={quote(text)}"), 400, "invalidFilter",
                      "The filter is longer than 4096 characters.")


def test_deeply_nested_filters_are_refused(api):
    text = "(" * 200 + "title pr" + ")" * 200
    assert_scim_error(api.get(f"/Users?filter={quote(text)}"), 400, "invalidFilter", "The filter is nested too deeply")


_PIECES = st.sampled_from([
    "userName", "title", "emails", "emails.value", "emails[type eq \"work\"]", "name.givenName", "active",
    "meta.created", "meta.lastModified", f"{ENTERPRISE}:manager", "id", "externalId", "nickName",
    " eq ", " ne ", " co ", " sw ", " ew ", " gt ", " ge ", " lt ", " le ", " pr", " and ", " or ", "not ",
    "(", ")", "[", "]", '"x"', '"%_\\\\"', '"2011-05-13T04:42:34Z"', "true", "false", "null", "5", '"', " ",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_PIECES, min_size=1, max_size=10))
def test_any_filter_is_200_or_400_against_the_database(api, pieces):
    """Whatever the filter, the answer is a list or 400 invalidFilter, never a 500 from SQL."""
    response = api.get(f"/Users?filter={quote(''.join(pieces))}")
    assert response.status_code in (200, 400), response.get_json()
    if response.status_code == 400:
        assert response.get_json()["scimType"] == "invalidFilter"


def test_single_value_held_in_the_row(api, people):
    """A multi-valued attribute whose one value lives in the resource's columns (ims here):
    plain comparisons, value paths and pr work on the row, without a child table."""
    assert ids(api, 'ims[type eq "xmpp" and value co "@FOO.com"]') == named(people, "percent")
    assert ids(api, 'ims[type eq "aim"]') == set()
    assert ids(api, 'ims eq "sure@foo.com"') == named(people, "percent")
    assert ids(api, 'ims.type eq "xmpp"') == named(people, "percent")
    assert ids(api, "ims pr") == named(people, "percent")
    assert ids(api, "not (ims pr)") == set(people.values()) - named(people, "percent")
