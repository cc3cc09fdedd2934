"""SCIM filters (RFC 7644 §3.4.2.2) compiled to peewee expressions; never evaluated in Python.

`compile_filter(rt, text, max_length)` walks scim2-filter-parser's AST with `visit_<Node>`
methods and looks every attribute up in the resource type's filter map (scim.filter_map).
The result is a peewee expression for the backend's WHERE clause, next to its tenant scope.

Semantics:
- caseExact=false strings compare lower-cased on both sides (RFC 7644 §3.4.2.2, RFC 7643 §2.2).
- `co`/`sw`/`ew` treat `%`, `_` and `\\` in the value as literal characters (escaped LIKE;
  GLOB on SQLite when caseExact=true, because SQLite's LIKE ignores case).
- `pr` is false for NULL, for an empty string and for a multi-valued attribute without rows.
- A multi-valued attribute is searched with EXISTS over its child rows (on SQLite `value eq
  "x"`, which IdPs match on, finds the child rows first: scim.filter_map.Child), or, when the map holds
  its single value in the resource's columns ("emails.value": Column(...)), on the row itself.
- Every comparison is two-valued: `ne` and `not (...)` match rows where the attribute is absent.
- `eq null` means "not present", `ne null` means "present".
- Unknown or unmapped attributes, operators that do not fit the type and values of the wrong
  type are 400 invalidFilter naming the problem.
"""
from __future__ import annotations

from peewee import SQL, ColumnBase, NodeList, Value, fn
from scim2_filter_parser import ast

from scim import filter_ast, filter_map, paths
from scim.errors import InvalidFilter
from scim.filter_map import Child, Column  # noqa: F401 - the map's vocabulary, re-exported
from scim.resources import ResourceType
from scim.schemas import Attribute

TEXT_TYPES = ("string", "reference", "binary")


def compile_filter(rt: ResourceType, text: str, max_length: int):
    """RFC 7644 §3.4.2.2: the filter as a peewee expression over the resource's rows."""
    if len(text) > max_length:
        raise InvalidFilter(f"The filter is longer than {max_length} characters.")
    return _Compiler(rt).visit(filter_ast.parse(text, InvalidFilter))


class _Compiler:
    """Visitor over the filter AST at the resource's top level."""

    def __init__(self, rt: ResourceType):
        self.rt = rt

    def visit(self, node):
        return getattr(self, f"visit_{type(node).__name__}")(node)

    def visit_Filter(self, node: ast.Filter):
        if node.namespace is not None:
            expr = self._value_path(node.namespace, node.expr)
        else:
            expr = self.visit(node.expr)
        return ~expr if node.negated else expr

    def visit_LogExpr(self, node: ast.LogExpr):
        left, right = self.visit(node.expr1), self.visit(node.expr2)
        return (left & right) if node.op.lower() == "and" else (left | right)

    def visit_AttrExpr(self, node: ast.AttrExpr):
        if isinstance(node.attr_path.attr_name, ast.Filter):
            return self._value_path_compare(node.attr_path.attr_name, node)
        path = self._resolve(node.attr_path)
        op = filter_ast.op_name(node)
        entry = self._child_entry(path) if path.attribute.multi_valued else None
        if entry is not None:
            sub = path.sub_attribute or _value_sub(path.attribute)
            if op == "pr" and path.sub_attribute is None:
                return entry.child.matching()
            by_value = (path.sub_attribute is None or path.sub_attribute.name == "value") \
                and _fixes_value(op, node.comp_value)
            return entry.child.matching(_sub_compare(entry, sub, op, node.comp_value), by_value=by_value)
        if path.attribute.is_complex and path.sub_attribute is None:
            if op == "pr":
                return self._complex_present(path)
            path = path.with_sub(_value_sub(path.attribute))
        entry = filter_map.lookup(self.rt, path)
        if entry is None or entry.column is None:
            raise InvalidFilter(f"The attribute '{path.key}' cannot be used in a filter.")
        return compare(entry.column, path.target, op, node.comp_value)

    def _value_path(self, namespace: ast.AttrPath, inner):
        """`emails[type eq "work" and value co "@acme"]`: one value must match all of it (a
        child row, or the resource's own row when the map holds the value in columns)."""
        path = self._resolve(namespace)
        if not path.attribute.multi_valued or path.sub_attribute is not None:
            raise InvalidFilter(f"'{path.key}[...]' needs a multi-valued attribute.")
        entry = self._child_entry(path)
        if entry is None:
            return _RowCompiler(self._row_entry(path)).visit(inner)
        return entry.child.matching(_RowCompiler(entry).visit(inner), by_value=_seeks_value(inner))

    def _value_path_compare(self, value_path: ast.Filter, node: ast.AttrExpr):
        """Entra (entra/add_work_email_when_absent) filters with `emails[type eq "work"].value eq
        "x"`: read as `emails[type eq "work" and value eq "x"]`."""
        namespace = value_path.namespace
        if value_path.negated or namespace is None or namespace.sub_attr is None:
            raise InvalidFilter("Invalid value path in the filter.")
        sub = namespace.sub_attr.value
        whole = ast.AttrPath(namespace.attr_name, None, namespace.uri)
        compared = ast.AttrExpr(node.value, ast.AttrPath(sub, None, None), node.comp_value)
        inner = ast.LogExpr("and", value_path.expr, ast.Filter(compared, False, None))
        return self._value_path(whole, inner)

    def _resolve(self, attr_path: ast.AttrPath) -> paths.AttrPath:
        if not isinstance(attr_path.attr_name, str):
            raise InvalidFilter("Value filters cannot be nested.")
        sub = attr_path.sub_attr.value if attr_path.sub_attr is not None else None
        return paths.resolve(self.rt, attr_path.uri, attr_path.attr_name, sub, error=InvalidFilter)

    def _child_entry(self, path: paths.AttrPath) -> filter_map.Entry | None:
        """The Child entry of a multi-valued attribute, or None when the map holds its one
        value in the resource's own columns ("emails.value": Column(User.email))."""
        entry = filter_map.lookup(self.rt, path.with_sub(None))
        if entry is not None and entry.child is not None:
            return entry
        if not self._row_entry(path).sub_columns:
            raise InvalidFilter(f"The attribute '{path.with_sub(None).key}' cannot be used in a filter.")
        return None

    def _row_entry(self, path: paths.AttrPath) -> filter_map.Entry:
        subs = {}
        for sub in path.attribute.sub_attributes:
            entry = filter_map.lookup(self.rt, path.with_sub(sub))
            if entry is not None and entry.column is not None:
                subs[sub.name.lower()] = (sub, entry.column)
        return filter_map.Entry(path.with_sub(None), sub_columns=subs)

    def _complex_present(self, path: paths.AttrPath):
        """`name pr`: a complex attribute is present when any mapped sub-attribute is."""
        checks = []
        for sub in path.attribute.sub_attributes:
            entry = filter_map.lookup(self.rt, path.with_sub(sub))
            if entry is not None and entry.column is not None:
                checks.append(present(entry.column, sub))
        if not checks:
            raise InvalidFilter(f"The attribute '{path.key}' cannot be used in a filter.")
        expr = checks[0]
        for check in checks[1:]:
            expr = expr | check
        return expr


class _RowCompiler:
    """Visitor for the filter inside `attr[...]`: names are sub-attributes of one child row."""

    def __init__(self, entry: filter_map.Entry):
        self.entry = entry

    def visit(self, node):
        if isinstance(node, ast.Filter):
            if node.namespace is not None:
                raise InvalidFilter("Value filters cannot be nested.")
            expr = self.visit(node.expr)
            return ~expr if node.negated else expr
        if isinstance(node, ast.LogExpr):
            left, right = self.visit(node.expr1), self.visit(node.expr2)
            return (left & right) if node.op.lower() == "and" else (left | right)
        sub = paths.value_filter_attribute(self.entry.path.attribute, node.attr_path, InvalidFilter)
        return _sub_compare(self.entry, sub, filter_ast.op_name(node), node.comp_value)


def _seeks_value(node) -> bool:
    """Whether the filter inside `attr[...]` holds only rows of one given `value` (a top-level
    `value eq "x"`, alone or and-ed with anything): those rows can then be found first."""
    if isinstance(node, ast.Filter):
        return not node.negated and node.namespace is None and _seeks_value(node.expr)
    if isinstance(node, ast.LogExpr):
        return node.op.lower() == "and" and (_seeks_value(node.expr1) or _seeks_value(node.expr2))
    name = node.attr_path.attr_name
    return (isinstance(name, str) and name.lower() == "value" and node.attr_path.sub_attr is None
            and _fixes_value(filter_ast.op_name(node), node.comp_value))


def _fixes_value(op: str, comp_value) -> bool:
    return op == "eq" and filter_ast.literal(comp_value) is not None


def _value_sub(attribute: Attribute) -> Attribute:
    if not attribute.is_complex:
        return attribute
    sub = attribute.sub("value")
    if sub is None:
        raise InvalidFilter(f"The complex attribute '{attribute.name}' must be filtered by one of its sub-attributes.")
    return sub


def _sub_compare(entry: filter_map.Entry, sub: Attribute, op: str, comp_value):
    mapped = entry.sub_columns.get("value" if sub is entry.path.attribute else sub.name.lower())
    if mapped is None:
        raise InvalidFilter(f"The attribute '{entry.path.key}.{sub.name}' cannot be used in a filter.")
    return compare(mapped[1], sub, op, comp_value)


def compare(column: Column, attribute: Attribute, op: str, comp_value):
    """One attribute comparison as a two-valued SQL condition (never NULL)."""
    if op == "pr":
        return present(column, attribute)
    value = filter_ast.typed_value(attribute, op, comp_value)
    if value is None:
        return ~present(column, attribute) if op == "eq" else present(column, attribute)
    lhs = column.expr
    if attribute.type in TEXT_TYPES and not attribute.case_exact:
        lhs = lhs if column.lowered else fn.LOWER(lhs)
        value = value.lower()
    known = lhs.is_null(False)
    if op in filter_ast.SUBSTRING_OPS:
        return known & _Match(lhs, op, value, attribute.case_exact)
    if op == "ne":
        return (lhs != value) | lhs.is_null()
    return known & _COMPARATORS[op](lhs, value)


_COMPARATORS = {
    "eq": lambda lhs, v: lhs == v,
    "gt": lambda lhs, v: lhs > v,
    "ge": lambda lhs, v: lhs >= v,
    "lt": lambda lhs, v: lhs < v,
    "le": lambda lhs, v: lhs <= v,
}


def present(column: Column, attribute: Attribute):
    """RFC 7644 §3.4.2.2 `pr`: a non-empty, non-null value."""
    expr = column.expr.is_null(False)
    if attribute.type in TEXT_TYPES:
        expr = expr & (column.expr != "")
    return expr


class _Match(ColumnBase):
    """`co`/`sw`/`ew` with the value's wildcard characters escaped. Case-exact matching uses
    GLOB on SQLite (its LIKE ignores ASCII case) and LIKE elsewhere."""

    _PATTERNS = {"co": "{0}{1}{0}", "sw": "{1}{0}", "ew": "{0}{1}"}

    def __init__(self, lhs, op: str, value: str, case_exact: bool):
        super().__init__()
        self.lhs, self.op, self.value, self.case_exact = lhs, op, value, case_exact

    def __sql__(self, ctx):
        if self.case_exact and filter_map.on_sqlite(ctx):
            escaped = "".join(f"[{c}]" if c in "*?[" else c for c in self.value)
            pattern = self._PATTERNS[self.op].format("*", escaped)
            parts = (self.lhs, SQL("GLOB"), Value(pattern, converter=False))
        else:
            escaped = self.value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = self._PATTERNS[self.op].format("%", escaped)
            parts = (self.lhs, SQL("LIKE"), Value(pattern, converter=False),
                     SQL("ESCAPE"), Value("\\", converter=False))
        return ctx.sql(NodeList(parts, parens=True))
