"""Hypothesis strategies for requests an IdP (or anyone) might send: JSON bodies, SCIM filters,
PATCH operations, paths, query strings and headers, from valid to garbage.

Text strategies deliberately include NUL characters and lone surrogates (sent as JSON escapes
such as "\\ud800", which is what a client can put on the wire); raw bodies include bytes that
are not UTF-8.
"""
from __future__ import annotations

import base64
import json
from urllib.parse import quote

from hypothesis import strategies as st

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ALLY_USER = "urn:ietf:params:scim:schemas:extension:ally:2.0:User"
ALLY_GROUP = "urn:ietf:params:scim:schemas:extension:ally:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
URNS = (USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE, ALLY_USER, ALLY_GROUP, PATCH_OP, SEARCH_REQUEST, BULK_REQUEST,
        "urn:ietf:params:scim:schemas:core:2.0", "urn:bogus:schema")

ATTRIBUTES = (
    "id", "externalId", "userName", "displayName", "nickName", "title", "userType", "active", "password",
    "preferredLanguage", "locale", "timezone", "profileUrl", "name", "emails", "phoneNumbers", "addresses",
    "photos", "ims", "roles", "entitlements", "x509Certificates", "groups", "members", "meta", "schemas",
    "employeeNumber", "department", "organization", "manager", "costCenter", "division", "status", "parent",
    "unknownAttr",
)
SUB_ATTRIBUTES = ("value", "display", "type", "primary", "$ref", "givenName", "familyName", "formatted",
                  "middleName", "streetAddress", "country", "created", "lastModified", "version", "location",
                  "resourceType", "managerId", "nope")
COMPARE_OPS = ("eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le")
PATCH_OPS = ("add", "remove", "replace")


def random_case(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flags: "".join(c.upper() if up else c for c, up in zip(word, flags)))


def one_of_words(words) -> st.SearchStrategy[str]:
    return st.sampled_from(words).flatmap(random_case)


# -- text and JSON values -----------------------------------------------------------------

NASTY_CHARACTERS = st.sampled_from(["\x00", "\ud800", "\udfff", "\ufffd", "\u202e", "\n", '"', "\\", "'", "%",
                                    "[", "]", "(", ")", ":", ".", " ", "\t", "é", "𝔘", "\x7f", "*", "_"])
text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.one_of(st.characters(), NASTY_CHARACTERS), max_size=30),
    st.text(alphabet=st.characters(codec="ascii"), max_size=12),
    st.sampled_from(["", " ", "alice@acme.example", "bob@elsewhere.example", "true", "null", "0", "-1",
                     "2026-11-28T00:00:00Z", "not-a-date", "urn:", ENTERPRISE]),
    st.integers(min_value=1_000, max_value=70_000).map(lambda n: "x" * n),  # huge strings
)
numbers = st.one_of(st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False))
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(text, st.sampled_from(ATTRIBUTES + SUB_ATTRIBUTES)),
                                               children, max_size=4)),
    max_leaves=12,
)


def nested(depth: int) -> object:
    value: object = "deep"
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


# -- SCIM resources --------------------------------------------------------------------------

def _mutated(base: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    """A resource with some attributes replaced by random values, some dropped, some added."""
    return st.tuples(base, st.dictionaries(st.sampled_from(ATTRIBUTES), json_values, max_size=3),
                     st.sets(st.sampled_from(ATTRIBUTES), max_size=2)).map(
        lambda parts: {key: value for key, value in {**parts[0], **parts[1]}.items() if key not in parts[2]})


plausible_user = st.fixed_dictionaries(
    {"schemas": st.sampled_from([[USER_SCHEMA], [USER_SCHEMA, ENTERPRISE], [USER_SCHEMA, ALLY_USER]]),
     "userName": st.one_of(st.just("fuzz@acme.example"), text.map(lambda t: f"{t}@acme.example"), text)},
    optional={
        "name": st.fixed_dictionaries({}, optional={"givenName": text, "familyName": text, "formatted": text}),
        "displayName": text,
        "active": st.one_of(st.booleans(), json_values),
        "externalId": text,
        "emails": st.lists(st.fixed_dictionaries({"value": text}, optional={"type": text, "primary": json_values}),
                           max_size=3),
        "title": text,
        ENTERPRISE: st.fixed_dictionaries({}, optional={"department": text, "employeeNumber": text,
                                                        "manager": st.one_of(text, json_values)}),
        ALLY_USER: st.dictionaries(text, json_values, max_size=2),
    },
)
plausible_group = st.fixed_dictionaries(
    {"schemas": st.sampled_from([[GROUP_SCHEMA], [GROUP_SCHEMA, ALLY_GROUP], [USER_SCHEMA]]),
     "displayName": text},
    optional={"members": st.lists(st.fixed_dictionaries({"value": text}, optional={"display": text}), max_size=3),
              "externalId": text, ALLY_GROUP: st.dictionaries(text, json_values, max_size=2)},
)
resources = st.one_of(_mutated(plausible_user), _mutated(plausible_group))


# -- filters ------------------------------------------------------------------------------

attribute_paths = st.one_of(
    st.sampled_from(ATTRIBUTES).flatmap(random_case),
    st.tuples(st.sampled_from(ATTRIBUTES), st.sampled_from(SUB_ATTRIBUTES)).map(".".join),
    st.tuples(st.sampled_from(URNS), st.sampled_from(ATTRIBUTES)).map(":".join),
    st.tuples(st.sampled_from(URNS), st.sampled_from(ATTRIBUTES), st.sampled_from(SUB_ATTRIBUTES))
    .map(lambda p: f"{p[0]}:{p[1]}.{p[2]}"),
)
comparison_values = st.one_of(
    st.sampled_from(["true", "false", "null", "0", "-1.5e300", "1e999", "123456789012345678901234567890"]),
    text.map(lambda t: json.dumps(t)),
    st.sampled_from(['"2026-11-28T00:00:00Z"', '"2026-13-45T99:99:99Z"', '"acme.example"', "'single'"]),
)
attribute_expressions = st.one_of(
    attribute_paths.map(lambda path: f"{path} pr"),
    st.tuples(attribute_paths, one_of_words(COMPARE_OPS), comparison_values).map(" ".join),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, one_of_words(("and", "or")), children).map(" ".join),
        children.map(lambda f: f"({f})"),
        st.tuples(random_case("not"), children).map(lambda p: f"{p[0]} ({p[1]})"),
        st.tuples(attribute_paths, children).map(lambda p: f"{p[0]}[{p[1]}]"),
        st.tuples(attribute_paths, children, st.sampled_from(SUB_ATTRIBUTES))
        .map(lambda p: f"{p[0]}[{p[1]}].{p[2]}"),
    )


valid_filters = st.recursive(attribute_expressions, _combine, max_leaves=6)


@st.composite
def almost_valid(draw, valid: st.SearchStrategy[str]) -> str:
    """A valid string with a few characters deleted, inserted or swapped."""
    chars = list(draw(valid))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.integers(0, len(chars)))
        action = draw(st.sampled_from(("delete", "insert", "swap")))
        if action == "delete" and where < len(chars):
            del chars[where]
        elif action == "insert":
            chars.insert(where, draw(st.one_of(NASTY_CHARACTERS, st.characters())))
        elif where + 1 < len(chars):
            chars[where], chars[where + 1] = chars[where + 1], chars[where]
    return "".join(chars)


FILTERED_ATTRIBUTES = ("userName", "displayName", "externalId", "active", "emails.value", "emails.type", "id",
                       "meta.lastModified", "meta.created", "name.givenName", "name.familyName", "members.value",
                       "title", f"{ENTERPRISE}:department", f"{ENTERPRISE}:manager.value", "groups.value")
real_values = st.one_of(
    st.sampled_from(['"colleague1@acme.example"', '"Fuzzers"', '"ext-1"', "true", "false", '"work"', "null",
                     '"2026-01-01T00:00:00Z"', '"2099-12-31T23:59:59.999Z"', '"acme"', '"@"', "42", '"a\x00b"',
                     '"\\u0000"', '"\ud800"']),
    st.text(alphabet="abcFz@.-", max_size=8).map(json.dumps),
)
real_expressions = st.one_of(
    st.sampled_from(FILTERED_ATTRIBUTES).map(lambda path: f"{path} pr"),
    st.tuples(st.sampled_from(FILTERED_ATTRIBUTES), one_of_words(COMPARE_OPS), real_values).map(" ".join),
    st.tuples(st.sampled_from(["emails", "members", "groups"]), st.sampled_from(["value", "type", "display"]),
              one_of_words(COMPARE_OPS), real_values).map(lambda p: f"{p[0]}[{p[1]} {p[2]} {p[3]}]"),
)
real_filters = st.recursive(real_expressions, _combine, max_leaves=4)
filters = st.one_of(real_filters, real_filters, valid_filters, almost_valid(valid_filters), text,
                    st.integers(1, 200).map(lambda n: "(" * n + 'userName eq "a"' + ")" * n),
                    st.integers(1, 200).map(lambda n: " or ".join(['userName eq "a"'] * n)),
                    st.integers(1, 60).map(lambda n: "not (" * n + "active pr" + ")" * n))


# -- PATCH ------------------------------------------------------------------------------------

patch_paths = st.one_of(
    attribute_paths,
    st.tuples(attribute_paths, valid_filters).map(lambda p: f"{p[0]}[{p[1]}]"),
    st.tuples(st.sampled_from(["emails", "members", "phoneNumbers", "addresses", "groups"]), valid_filters,
              st.sampled_from(SUB_ATTRIBUTES)).map(lambda p: f"{p[0]}[{p[1]}].{p[2]}"),
    st.sampled_from(["members[value eq \"nope\"]", 'emails[type eq "work"].value', "name.givenName",
                     f"{ENTERPRISE}:manager", f"{ENTERPRISE}:manager.value", "active", ALLY_USER, ENTERPRISE]),
    almost_valid(attribute_paths),
    text,
)
patch_values = st.one_of(
    json_values,
    st.sampled_from([True, False, "False", "True", None, [], {}, [{"value": "nope"}], {"active": "yes"},
                     {"name": {"givenName": 7}}, {"emails": "a@b"}, {"userName": None}, {"displayName": ""}]),
    resources,
)


sane_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=20)
emails = st.text(alphabet="abcxyz.-", min_size=1, max_size=10).map(lambda local: f"{local}@acme.example")


def _op(op: str, path: str | None, values: st.SearchStrategy) -> st.SearchStrategy[dict]:
    base = {"op": op} if path is None else {"op": op, "path": path}
    return st.tuples(random_case(op), values).map(lambda p: {**base, "op": p[0], "value": p[1]})


def user_patches(user_ids) -> st.SearchStrategy[dict]:
    """Operations an IdP sends to /Users/<id>, mostly well-formed (see RFC 7644 §3.5.2)."""
    some_text = st.one_of(sane_text, sane_text, text)
    set_ops = st.sampled_from(["replace", "add"])
    return st.one_of(
        _op("replace", "active", st.one_of(st.booleans(), st.sampled_from(["True", "false"]))),
        set_ops.flatmap(lambda op: st.sampled_from(["displayName", "name.givenName", "name.familyName", "title",
                                                    "externalId", "nickName", f"{ENTERPRISE}:department",
                                                    f"{ENTERPRISE}:employeeNumber"])
                        .flatmap(lambda path: _op(op, path, some_text))),
        _op("replace", 'emails[type eq "work"].value', emails),
        _op("add", "emails", st.lists(st.fixed_dictionaries({"value": emails, "type": st.sampled_from(["home", "work"])}),
                                      max_size=2)),
        st.just({"op": "remove", "path": 'emails[type eq "home"]'}),
        _op("replace", "userName", emails),
        _op("replace", None, st.fixed_dictionaries({}, optional={"active": st.booleans(), "displayName": some_text,
                                                                 "name.givenName": some_text, "title": some_text})),
        _op("replace", f"{ENTERPRISE}:manager", st.sampled_from(user_ids).map(lambda id_: {"value": id_})),
        st.just({"op": "remove", "path": f"{ENTERPRISE}:manager"}),
        st.sampled_from(["title", "nickName", "displayName"]).map(lambda path: {"op": "remove", "path": path}),
    )


def group_patches(user_ids) -> st.SearchStrategy[dict]:
    """Operations an IdP sends to /Groups/<id>: renames and membership changes."""
    members = st.lists(st.one_of(st.sampled_from(user_ids), st.uuids().map(str)), min_size=1, max_size=3)
    return st.one_of(
        _op("replace", "displayName", st.one_of(sane_text, text)),
        _op("replace", "externalId", sane_text),
        st.sampled_from(["add", "replace"]).flatmap(
            lambda op: _op(op, "members", members.map(lambda ids: [{"value": id_} for id_ in ids]))),
        st.sampled_from(user_ids).map(lambda id_: {"op": "remove", "path": f'members[value eq "{id_}"]'}),
        _op("replace", None, st.fixed_dictionaries({"displayName": sane_text})),
        st.just({"op": "remove", "path": "members"}),
    )


def patch_bodies_for(plausible: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    """PatchOp bodies of well-formed operations, some with a broken one among them, or garbage."""
    operations = st.one_of(plausible, plausible, plausible, patch_operations())
    return st.one_of(
        st.lists(plausible, min_size=1, max_size=3).map(lambda ops: {"schemas": [PATCH_OP], "Operations": ops}),
        st.lists(operations, min_size=2, max_size=4).map(lambda ops: {"schemas": [PATCH_OP], "Operations": ops}),
        patch_bodies,
    )


@st.composite
def patch_operations(draw) -> dict:
    operation: dict = {}
    if draw(st.integers(0, 9)):
        operation["op"] = draw(st.one_of(one_of_words(PATCH_OPS), text, json_values))
    if draw(st.booleans()):
        operation["path"] = draw(st.one_of(patch_paths, json_values) if draw(st.integers(0, 9)) == 0 else patch_paths)
    if draw(st.integers(0, 4)):
        operation["value"] = draw(patch_values)
    if not draw(st.integers(0, 9)):
        operation.update(draw(st.dictionaries(text, json_values, max_size=2)))
    return operation


patch_bodies = st.one_of(
    st.fixed_dictionaries({"schemas": st.just([PATCH_OP]),
                           "Operations": st.lists(patch_operations(), min_size=1, max_size=4)}),
    st.fixed_dictionaries({"schemas": st.one_of(st.just([PATCH_OP]), json_values),
                           "Operations": st.one_of(st.lists(patch_operations(), max_size=3), json_values)}),
    st.dictionaries(text, json_values, max_size=3),
)


# -- listings, bulk ---------------------------------------------------------------------------

list_parameters = st.dictionaries(
    st.sampled_from(["filter", "startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes",
                     "cursor", "foo"]),
    st.one_of(text, st.integers().map(str), st.integers(-(2**80), 2**80).map(str), filters,
              st.sampled_from(["1e3", "0x10", "٣", " 5", "5 ", "+5", "-0", "ascending", "DESCENDING",
                               "userName", "meta.lastModified", "emails.value", "name", ENTERPRISE])),
    max_size=4,
)
search_bodies = st.one_of(
    st.builds(lambda params, schemas: {"schemas": schemas, **params}, list_parameters,
              st.one_of(st.just([SEARCH_REQUEST]), json_values)),
    st.builds(lambda params, extra: {"schemas": [SEARCH_REQUEST], **params, **extra},
              list_parameters, st.dictionaries(st.sampled_from(["startIndex", "count", "attributes",
                                                                "excludedAttributes", "filter"]), json_values)),
)


@st.composite
def bulk_operations(draw) -> dict:
    operation = {
        "method": draw(st.one_of(one_of_words(("POST", "PUT", "PATCH", "DELETE", "GET")), json_values)),
        "path": draw(st.one_of(st.sampled_from(["/Users", "/Groups", "/Users/bulkId:u1", "/Groups/bulkId:g1",
                                                "/Users/1", "/Groups/1", "/Bulk", "Users", "/Me"]), text)),
    }
    if draw(st.booleans()):
        operation["bulkId"] = draw(st.one_of(st.sampled_from(["u1", "g1", "u2"]), text, json_values))
    if draw(st.integers(0, 3)):
        operation["data"] = draw(st.one_of(resources, patch_bodies, json_values))
    if not draw(st.integers(0, 5)):
        operation["version"] = draw(st.one_of(text, json_values))
    return operation


bulk_bodies = st.one_of(
    st.fixed_dictionaries({"schemas": st.just([BULK_REQUEST]), "Operations": st.lists(bulk_operations(), max_size=5)},
                          optional={"failOnErrors": json_values}),
    st.dictionaries(st.sampled_from(["schemas", "Operations", "failOnErrors"]), json_values),
)


# -- the wire: bodies, query strings, headers -----------------------------------------------

def encoded(document) -> st.SearchStrategy[bytes]:
    """A JSON document as a client might send it: escaped (lone surrogates as \\udXXX) or raw UTF-8."""
    raw = json.dumps(document, ensure_ascii=False)
    options = [json.dumps(document).encode()]
    try:
        options.append(raw.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form
        pass
    return st.sampled_from(options)


garbage_bodies = st.one_of(
    st.binary(max_size=200),  # mostly not UTF-8
    st.sampled_from([b"", b"   ", b"null", b"[]", b'"text"', b"42", b"{", b'{"a": NaN}', b'{"a": Infinity}',
                     b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "\xff\xfe"}',
                     b'{"userName": "a\\u0000b"}', b'{"userName": "\\ud800"}', b'{"a": 1, "a": 2}',
                     b"\xef\xbb\xbf{}"]),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.integers(20, 40).map(lambda n: json.dumps(nested(n)).encode()),
    json_values.flatmap(encoded),
)


def bodies(documents: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    """Mostly the given documents, JSON-encoded; sometimes garbage."""
    document = documents.flatmap(encoded)
    return st.one_of(document, document, document, garbage_bodies)


def quoted(value: str) -> str:
    """Percent-encoded for a URL; lone surrogates become the (invalid) UTF-8 bytes they would be."""
    return quote(value, safe="", errors="surrogatepass")


def basic_auth(user: str, password: str) -> str:
    raw = f"{user}:{password}".encode("utf-8", errors="surrogatepass")
    return "Basic " + base64.b64encode(raw).decode()


query_strings = st.one_of(
    list_parameters.map(lambda params: "&".join(f"{quoted(k)}={quoted(v)}" for k, v in params.items())),
    # what can stand in a request line: printable ASCII without spaces (a server refuses the rest)
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e, exclude_characters="#"), max_size=40),
    st.sampled_from(["filter", "filter=", "count=%FF", "filter=%00", "startIndex=1&startIndex=x",
                     "attributes=%ED%A0%80", "filter=userName%20eq%20%22%ED%A0%80%22"]),
)
header_values = st.one_of(
    st.text(alphabet=st.characters(codec="latin-1", exclude_characters="\r\n\x00"), max_size=40),
    st.sampled_from(["", "*", '"1"', 'W/"1"', 'W/"x", "y"', '"', "W/", "\x7f"]),
)
content_types = st.one_of(
    st.sampled_from(["application/scim+json", "application/json", "application/scim+json; charset=utf-8",
                     "APPLICATION/SCIM+JSON", "application/json; charset=latin-1", "text/plain",
                     "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", ";", "*/*"]),
    header_values,
)
authorizations = st.one_of(
    st.sampled_from(["Bearer", "Bearer ", "bearer x", "Basic", "Basic %%%", "Basic Og==", "Bearer a.b.c",
                     "Token abc", "Bearer \x7f", "Bearer " + "x" * 5000]),
    header_values,
)


def path_segments() -> st.SearchStrategy[str]:
    """An id as it appears in a URL: quoted text, percent-escapes of bad bytes, dot segments."""
    return st.one_of(
        text.map(quoted),
        st.sampled_from(["%00", "a%00b", "%FF", "%ED%A0%80", "..", ".", "%2e%2e", "%2F", "0", "-1", "99999999999999999999",
                         "1e3", "bulkId:u1", ".search", "x" * 300]),
        st.uuids().map(str),
    )
