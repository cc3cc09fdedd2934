"""The one in-memory filter evaluation: a PATCH value path (`emails[type eq "work"]`,
`members[value eq "id"]`) applied to the values of a single resource (STYLE principle 3).

It reuses the attribute table for types and caseExact and the same comparison-value typing as
the SQL compiler (scim.filter_ast), so `[type eq "Work"]` matches the same rows in both.
"""
from __future__ import annotations

from scim2_filter_parser import ast

from scim import filter_ast
from scim.errors import InvalidPath
from scim.paths import value_filter_attribute
from scim.schemas import Attribute


def matches(parent: Attribute, node, element) -> bool:
    """Does one value of the multi-valued complex attribute `parent` satisfy the filter?"""
    if isinstance(node, ast.Filter):
        result = matches(parent, node.expr, element)
        return not result if node.negated else result
    if isinstance(node, ast.LogExpr):
        if node.op.lower() == "and":
            return matches(parent, node.expr1, element) and matches(parent, node.expr2, element)
        return matches(parent, node.expr1, element) or matches(parent, node.expr2, element)
    sub = value_filter_attribute(parent, node.attr_path, InvalidPath)
    actual = _field(element, sub.name)
    return _compare(sub, filter_ast.op_name(node), actual, node.comp_value)


def _field(element, name: str):
    if not isinstance(element, dict):
        return None
    for key, value in element.items():
        if key.lower() == name.lower():
            return value
    return None


def _compare(attribute: Attribute, op: str, actual, comp_value) -> bool:
    if op == "pr":
        return actual not in (None, "", [], {})
    expected = filter_ast.typed_value(attribute, op, comp_value, InvalidPath)
    if expected is None:
        return (actual is None) == (op == "eq")
    actual = _typed_actual(attribute, actual)
    if actual is None:
        return op == "ne"
    if attribute.type in ("string", "reference", "binary") and not attribute.case_exact:
        actual, expected = actual.lower(), expected.lower()
    return _OPS[op](actual, expected)


def _typed_actual(attribute: Attribute, actual):
    """The stored value in the comparison's type, or None when it cannot be compared."""
    try:
        return filter_ast.typed_value(attribute, "eq", ast.CompValue(_as_literal(actual)), InvalidPath)
    except InvalidPath:
        return None


def _as_literal(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return filter_ast.Quoted(value)
    if value is None:
        return "null"
    return filter_ast.Quoted(str(value))


_OPS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "co": lambda a, b: b in a,
    "sw": lambda a, b: a.startswith(b),
    "ew": lambda a, b: a.endswith(b),
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}
