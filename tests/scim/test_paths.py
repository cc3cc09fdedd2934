"""The one attribute-path parser (RFC 7644 §3.10, §3.5.2 Figure 7) and its robustness."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scim import filter_ast, paths
from scim.core_schemas import ENTERPRISE_USER, GROUP, USER
from scim.errors import InvalidFilter, InvalidPath, ScimError
from scim.filter import compile_filter
from scim.filter_map import Column
from scim.resources import Extension, ResourceType
from tests.scim.testapp import ALLY_USER, PERSON_FILTER_MAP

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USERS = ResourceType("User", "/Users", USER, backend=None, filter_map=PERSON_FILTER_MAP,
                     extensions=(Extension(ENTERPRISE_USER), Extension(ALLY_USER)))
GROUPS = ResourceType("Group", "/Groups", GROUP, backend=None, filter_map={"id": Column(None)})


@pytest.mark.parametrize("text,key", [
    ("userName", "userName"),
    ("USERNAME", "userName"),
    ("name.givenName", "name.givenName"),
    ("Name.GivenName", "name.givenName"),
    ("urn:ietf:params:scim:schemas:core:2.0:User:userName", "userName"),
    ("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", "name.familyName"),
    (f"{ENTERPRISE}:employeeNumber", f"{ENTERPRISE}:employeeNumber"),
    (f"{ENTERPRISE}:manager", f"{ENTERPRISE}:manager"),
    (f"{ENTERPRISE.upper()}:Manager.Value", f"{ENTERPRISE}:manager.value"),
    (f"{ENTERPRISE}:manager.$ref", f"{ENTERPRISE}:manager.$ref"),
    ("id", "id"),
    ("meta.lastModified", "meta.lastModified"),
    ("emails", "emails"),
    ("emails.value", "emails.value"),
])
def test_paths_resolve_to_canonical_names(text, key):
    """RFC 7643 §2.1: attribute names are case-insensitive; the URN's "2.0" never splits a path."""
    assert paths.parse(text, USERS).key == key


def test_value_path_with_sub_attribute():
    """RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr]."""
    path = paths.parse('emails[type eq "work"].value', USERS)
    assert path.key == "emails.value"
    assert path.value_filter is not None
    path = paths.parse('members[value eq "2819c223-7f76-453a-919d-413861904646"]', GROUPS)
    assert path.key == "members" and path.sub_attribute is None


@pytest.mark.parametrize("text,detail", [
    ("", "The path is empty."),
    ("nope", "The attribute 'nope' is not defined for User."),
    ("name.nope", "The attribute 'name' has no sub-attribute 'nope'."),
    ("userName.x", "The attribute 'userName' has no sub-attributes ('userName.x')."),
    ("urn:x:y:z:attr", "does not start with a schema of User."),
    ('emails[nope eq "x"]', "The attribute 'emails' has no sub-attribute 'nope'."),
    ('name[givenName eq "x"]', "A value filter needs a multi-valued complex attribute; 'name' is not one."),
    ('emails[type eq "work"', "The path 'emails[type eq \"work\"' is malformed."),
    ("emails..value", "is malformed"),
    ('emails[type eq "a"] extra', "is malformed"),
    ('emails[type eqq "a"]', "Invalid filter"),
    ('emails[type eq "a"][value eq "b"]', "Invalid filter"),
    ('emails[value gt true]', "The value true is not a valid string for attribute 'value'."),
])
def test_bad_paths_are_invalid_path(text, detail):
    """RFC 7644 §3.12 invalidPath: "The "path" attribute was invalid or malformed"."""
    with pytest.raises(InvalidPath) as raised:
        paths.parse(text, USERS)
    assert detail in raised.value.detail


def test_attribute_lists_skip_unknown_names():
    found = paths.parse_list("userName, nope, name.givenName,,urn:x:y:z", USERS, error=InvalidFilter)
    assert [p.key for p in found] == ["userName", "name.givenName"]


def test_filter_values_keep_json_escapes_and_quotes_apart():
    node = filter_ast.parse(r'userName eq "a\u00e9b"')
    assert filter_ast.literal(node.expr.comp_value) == "aéb"
    assert isinstance(filter_ast.literal(filter_ast.parse('active eq "true"').expr.comp_value), filter_ast.Quoted)
    assert filter_ast.literal(filter_ast.parse("active eq true").expr.comp_value) is True


_NAME = st.sampled_from(["userName", "name", "givenName", "emails", "value", "type", "members", "x",
                         "urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, "manager", "$ref"])
_PIECE = st.one_of(_NAME, st.sampled_from(list('[].:" ()eqcopr\\%_') + [" and ", " or ", " not ", " eq ", '"x"']),
                   st.text(max_size=4))


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECE, max_size=12).map("".join))
def test_path_parser_never_fails_unexpectedly(text):
    """Any input is a path or a SCIM error, never another exception (no 500)."""
    try:
        paths.parse(text, USERS)
    except ScimError:
        pass


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECE, max_size=14).map("".join))
def test_filter_compiler_never_fails_unexpectedly(text):
    """Any filter text compiles or is 400 invalidFilter, never another exception (no 500)."""
    try:
        compile_filter(USERS, text, 4096)
    except InvalidFilter:
        pass
