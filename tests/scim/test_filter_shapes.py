"""A filter whose shape (its tokens, with the quoted strings left out) was parsed before is not
parsed again: the known tree is rebuilt with the new strings (scim.filter_ast). Whatever the
filter, that tree is the one a fresh parse gives, and the first filter's strings never leak."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from scim2_filter_parser import ast
from scim2_filter_parser.lexer import SCIMLexer

from scim import filter_ast
from scim.errors import InvalidFilter
from tests import strategies as gen


def dump(node):
    """The whole tree as plain data, a value's type included (a Quoted string is not a bare one)."""
    if isinstance(node, ast.AST):
        return type(node).__name__, tuple((name, dump(getattr(node, name))) for name in node._fields)
    return type(node).__name__, node


def parsed(text: str):
    try:
        return dump(filter_ast.parse(text))
    except InvalidFilter as exc:
        return "refused", str(exc)


def with_other_strings(text: str) -> str:
    """The filter with every quoted string replaced by another one (the same shape)."""
    spans = [(token.index, token.end) for token in SCIMLexer().tokenize(text)
             if token.type == "COMP_VALUE" and text[token.index] == '"']
    for n, (start, end) in enumerate(reversed(spans)):
        text = f'{text[:start]}"other {n}"{text[end:]}'
    return text


@pytest.fixture
def no_shapes():
    saved = dict(filter_ast._PARSED)
    filter_ast._PARSED.clear()
    yield filter_ast._PARSED
    filter_ast._PARSED.clear()
    filter_ast._PARSED.update(saved)


@pytest.mark.parametrize("text", [
    'userName eq "bjensen@example.com"',
    'emails[type eq "work"].value eq "BJENSEN@example.com" and displayName co "Babs"',
    'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
    'not (title pr and userType eq "Employee") and active eq true and meta.lastModified gt "2011-05-13T04:42:34Z"',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m\\u00e9" or externalId eq null',
])
def test_known_shapes_give_the_tree_of_a_fresh_parse(no_shapes, text):
    fresh = parsed(text)
    no_shapes.clear()
    other = with_other_strings(text)
    assert parsed(other) != fresh  # the strings differ
    assert len(no_shapes) == 1
    assert parsed(text) == fresh  # rebuilt from the other filter's tree
    assert len(no_shapes) == 1


def test_generated_filters_through_their_shapes(no_shapes):
    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.filter_too_much])
    @given(gen.filters)
    def run(text):
        no_shapes.clear()
        fresh = parsed(text)
        try:
            other = with_other_strings(text)
        except ValueError:
            return  # the lexer refuses it: nothing is kept
        no_shapes.clear()
        parsed(other)
        assert parsed(text) == fresh

    run()


def test_a_value_path_with_a_sub_attribute_keeps_its_strings_apart(no_shapes):
    """The parser holds `emails[type eq "work"].value eq "x"` as the comparison with "x" first,
    then the bracket: the strings go back by where they were written, not by the tree's order."""
    parsed('emails[type eq "work"].value eq "a@example.com"')
    tree = filter_ast.parse('emails[type eq "home"].value eq "b@example.com"')
    strings = [node.value for node in filter_ast.walk(tree) if isinstance(node, ast.CompValue)]
    assert sorted(strings) == ["b@example.com", "home"]
    assert parsed('emails[type eq "home"].value eq "b@example.com"') == dump(tree)
