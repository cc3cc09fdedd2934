"""Filter text → scim2-filter-parser AST, and comparison values typed by the attribute table.

The library's lexer gives the same token value for `true` and `"true"`; the token stream is
tagged here so that a quoted string stays a `Quoted` str. Quoted values are decoded as JSON
strings where they are valid JSON (RFC 7644 §3.4.2.2 compValue), else taken as written.
Lexer ValueError and SCIMParserError become the caller's error class (invalidFilter for
?filter=, invalidPath for PATCH paths) naming the problem. Operators are matched in any case
(RFC 7644 §3.4.2.2); `op_name` gives the lower-cased operator.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from scim2_filter_parser import ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser, SCIMParserError

from scim import limits
from scim.errors import InvalidFilter, ScimError
from scim.schemas import Attribute

COMPARE_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
ORDER_OPS = frozenset({"gt", "ge", "lt", "le"})
SUBSTRING_OPS = frozenset({"co", "sw", "ew"})
_LITERALS = {"true": True, "false": False, "null": None}
MAX_DEPTH = 128   # AST levels; about 60 terms joined by and/or, far beyond what IdPs send
MAX_TERMS = 100   # comparisons plus and/or operators: about 50 comparisons (IdPs send one or two)


class Quoted(str):
    """A comparison value that was written as a quoted string."""


def parse(text: str, error: type[ScimError] = InvalidFilter) -> ast.Filter:
    """Parse a filter; any syntax problem is `error` with a message naming it."""
    if not text or not text.strip():
        raise error("The filter is empty.")
    limits.check_text(text, "The filter", error)
    try:
        tokens = list(_tag_strings(SCIMLexer().tokenize(text)))
        shape = tuple((token.type, None if isinstance(token.value, Quoted) else token.value) for token in tokens)
        quoted = [token.value for token in tokens if isinstance(token.value, Quoted)]
        known = _PARSED.get(shape)
        if known is not None:
            tree, places = known
            return _with_quoted(tree, quoted, places)
        tree = SCIMParser().parse(iter(tokens))
    except ValueError as exc:
        raise error(f"Invalid filter {text!r}: {str(exc).rstrip('.')}.") from None
    except SCIMParserError:
        raise error(f"Invalid filter {text!r}: {_where(text)}.") from None
    terms = sum(1 for node in walk(tree) if isinstance(node, (ast.AttrExpr, ast.LogExpr)))
    if terms > MAX_TERMS:
        raise error(f"The filter has {terms} comparisons and logical operators; at most {MAX_TERMS} are allowed.")
    if depth(tree) > MAX_DEPTH:
        raise error(f"The filter is nested too deeply (more than {MAX_DEPTH} levels of terms and parentheses).")
    if len(_PARSED) < MAX_SHAPES:
        _PARSED[shape] = tree, {id(value): place for place, value in enumerate(quoted)}
    return tree


# Parsed filters by shape (the tokens with their quoted strings left out): the tree, and where
# each of its quoted strings was in the filter (by the string object's identity: the parser does
# not keep the written order, `emails[type eq "work"].value eq "x"` holds "x" first). The IdPs'
# filters are few shapes (`userName eq "..."` before every create) with new strings each time,
# and the parser takes most of a filter's handling: a known shape gets its tree rebuilt with
# the new strings. The first MAX_SHAPES shapes of a process are kept (and never changed).
MAX_SHAPES = 500
_PARSED: dict = {}


def _with_quoted(node, quoted: list, places: dict):
    """A copy of a kept tree with the quoted comparison values of another filter of its shape
    (`quoted`, in written order; `places`: the kept strings' written places). Nodes are made
    only from their fields, as the parser makes them."""
    if isinstance(node, ast.CompValue):
        return ast.CompValue(quoted[places[id(node.value)]]) if isinstance(node.value, Quoted) else node
    if not isinstance(node, ast.AST):
        return node
    return type(node)(*[_with_quoted(getattr(node, name), quoted, places) for name in node._fields])


def depth(tree) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in _children(node))
    return deepest


def _children(node):
    for name in getattr(node, "_fields", ()):
        child = getattr(node, name, None)
        if isinstance(child, ast.AST):
            yield child


def _tag_strings(tokens):
    for token in tokens:
        if token.type == "COMP_VALUE":
            token.value = Quoted(_decode(token.value))
        yield token


def _decode(raw: str) -> str:
    try:
        decoded = json.loads(f'"{raw}"')
    except ValueError:
        return raw
    if decoded != raw:
        limits.check_text(decoded, f"The value \"{raw}\"", ValueError)  # escapes such as \u0000
    return decoded


def _where(text: str) -> str:
    """Describe the parser failure position without leaking library internals."""
    try:
        list(SCIMLexer().tokenize(text))
    except ValueError as exc:
        return str(exc)
    return ("it does not follow the filter grammar of RFC 7644 §3.4.2.2 "
            "(check the operators, quotes, brackets and parentheses)")


def op_name(node: ast.AttrExpr) -> str:
    return node.value.lower()


def literal(node: ast.CompValue | None):
    """The Python value of a comparison value: Quoted str, bool, None, or an int."""
    if node is None:
        return None
    raw = node.value
    if isinstance(raw, Quoted):
        return raw
    if raw in _LITERALS:
        return _LITERALS[raw]
    return int(raw)


def typed_value(attribute: Attribute, op: str, node: ast.CompValue, error=InvalidFilter):
    """RFC 7644 §3.4.2.2: the comparison value converted to the attribute's type, or `error`."""
    value = literal(node)
    kind = attribute.type
    if op in ORDER_OPS and kind in ("boolean", "binary"):
        raise error(f"The operator '{op}' is not supported for {kind} attribute '{attribute.name}'.")
    if op in SUBSTRING_OPS and kind not in ("string", "reference", "binary"):
        raise error(f"The operator '{op}' is not supported for {kind} attribute '{attribute.name}'.")
    if value is None:
        if op not in ("eq", "ne"):
            raise error(f"null can only be compared with 'eq' or 'ne' (attribute '{attribute.name}').")
        return None
    return _convert(attribute, value, error)


def _convert(attribute: Attribute, value, error):
    kind = attribute.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        # Entra and Okta send booleans as strings elsewhere; "true"/"false" in any case is accepted.
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif kind in ("string", "reference", "binary"):
        if isinstance(value, str):
            return str(value)
    elif kind == "dateTime":
        if isinstance(value, str):
            parsed = parse_datetime(value)
            if parsed is not None:
                return parsed
    elif kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            return int(value)
    elif kind == "decimal":
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            try:
                return Decimal(str(value))
            except InvalidOperation:
                pass
    raise error(f"The value {json.dumps(value)} is not a valid {kind} for attribute '{attribute.name}'.")


def parse_datetime(text: str) -> datetime | None:
    """An xsd:dateTime (RFC 7643 §2.3.5) as naive UTC, or None when it is not one."""
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if "T" not in text.upper():
        return None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00, before the first representable moment
            return None
    return parsed


def walk(node):
    """Every AST node under `node` (depth first), for checks over the whole filter."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(_children(current))
