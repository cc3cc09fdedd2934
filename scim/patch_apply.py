"""The {op: function} table of RFC 7644 §3.5.2.1-3: add, replace and remove applied to an
attribute dict (changed in place; scim.patch hands in a copy)."""
from __future__ import annotations

from scim2_filter_parser import ast

from scim.errors import InvalidValue, Mutability, NoTarget
from scim.filter_ast import literal, op_name
from scim.match import matches
from scim.paths import AttrPath
from scim.schemas import Attribute


def add(document: dict, operation) -> None:
    """RFC 7644 §3.5.2.1 add."""
    path, value = operation.path, operation.value
    with _primary_guard(document, path):
        if path.value_filter is not None:
            _set_in_matches(document, path, value, create=True)
        elif path.sub_attribute is not None:
            _set_sub(document, path, value)
        elif path.attribute.multi_valued:
            _merge_values(document, path, value)
        elif path.attribute.is_complex:
            _merge_complex(document, path, value)
        else:
            _set(document, path, value)


def replace(document: dict, operation) -> None:
    """RFC 7644 §3.5.2.3 replace."""
    path, value = operation.path, operation.value
    with _primary_guard(document, path):
        if path.value_filter is not None:
            _set_in_matches(document, path, value, create=False)
        elif path.sub_attribute is not None:
            _set_sub(document, path, value)
        elif path.attribute.is_complex and not path.attribute.multi_valued:
            # "Sub-attributes that are not specified in the value parameter are left unchanged."
            _merge_complex(document, path, value)
        else:
            _set(document, path, value)


def remove(document: dict, operation) -> None:
    """RFC 7644 §3.5.2.2 remove."""
    path = operation.path
    holder = _holder(document, path, create=False)
    current = holder.get(path.attribute.name)
    if current is None:
        return
    _check_immutable(path, current)
    if path.value_filter is not None:
        selected = _matching(path, current)
        if path.sub_attribute is None:
            holder[path.attribute.name] = [item for item in current if not any(item is s for s in selected)]
        else:
            for item in selected:
                item.pop(path.sub_attribute.name, None)
    elif path.sub_attribute is not None:
        for item in current if isinstance(current, list) else [current]:
            item.pop(path.sub_attribute.name, None)
    else:
        holder.pop(path.attribute.name)
    _tidy(document, path)


OPERATIONS = {"add": add, "replace": replace, "remove": remove}


def _holder(document: dict, path: AttrPath, create: bool) -> dict:
    """The dict that holds the attribute: the document, or its extension object."""
    if path.container is None:
        return document
    if create:
        return document.setdefault(path.container, {})
    return document.get(path.container) or {}


def _set(document: dict, path: AttrPath, value) -> None:
    holder = _holder(document, path, create=True)
    _check_immutable(path, holder.get(path.attribute.name), value)
    holder[path.attribute.name] = value


def _merge_complex(document: dict, path: AttrPath, value: dict) -> None:
    holder = _holder(document, path, create=True)
    current = holder.get(path.attribute.name) or {}
    holder[path.attribute.name] = {**current, **value}


def _set_sub(document: dict, path: AttrPath, value) -> None:
    holder = _holder(document, path, create=True)
    current = holder.get(path.attribute.name)
    if path.attribute.multi_valued:
        items = current or [{}]
        for item in items:
            _check_immutable(path, item.get(path.sub_attribute.name), value)
            item[path.sub_attribute.name] = value
        holder[path.attribute.name] = items
        return
    current = current or {}
    _check_immutable(path, current.get(path.sub_attribute.name), value)
    holder[path.attribute.name] = {**current, path.sub_attribute.name: value}


def _merge_values(document: dict, path: AttrPath, values: list) -> None:
    """RFC 7644 §3.5.2.1: new values are added; a value already present is not repeated."""
    holder = _holder(document, path, create=True)
    current = holder.setdefault(path.attribute.name, [])
    for value in values:
        same = next((item for item in current if _same_value(path.attribute, item, value)), None)
        if same is None:
            current.append(value)
        elif isinstance(same, dict):
            same.update(value)


def _same_value(attribute: Attribute, a, b) -> bool:
    if not (attribute.is_complex and isinstance(a, dict) and isinstance(b, dict)):
        return a == b
    value_sub = attribute.sub("value")
    if value_sub is None or a.get("value") is None:
        return a == b
    left, right = a.get("value"), b.get("value")
    if isinstance(left, str) and isinstance(right, str) and not value_sub.case_exact:
        left, right = left.lower(), right.lower()
    same_type = a.get("type") is None or b.get("type") is None or a.get("type") == b.get("type")
    return left == right and same_type


def _set_in_matches(document: dict, path: AttrPath, value, create: bool) -> None:
    holder = _holder(document, path, create=True)
    current = holder.setdefault(path.attribute.name, [])
    selected = _matching(path, current)
    if not selected:
        if not create:
            # RFC 7644 §3.5.2.3: no record match with a value filter is noTarget.
            raise NoTarget(f"No value of '{path.attribute.name}' matches the filter in the path.")
        selected = [_new_value_from_filter(path)]
        current.append(selected[0])
    for item in selected:
        if path.sub_attribute is not None:
            _check_immutable(path, item.get(path.sub_attribute.name), value)
            item[path.sub_attribute.name] = value
        elif create:
            item.update(value)     # add merges into the selected value (or the one just made)
        else:
            item.clear()           # replace puts the new value in place of the selected one
            item.update(value)


def _matching(path: AttrPath, current) -> list:
    return [item for item in current or [] if matches(path.attribute, path.value_filter, item)]


def _new_value_from_filter(path: AttrPath) -> dict:
    """Entra (entra/add_work_email_when_absent): `add` to emails[type eq "work"].value with no work email
    creates {"type": "work", "value": ...}; only a filter of `eq` terms joined by `and` can."""
    terms = {}
    stack = [path.value_filter]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Filter) and not node.negated and node.namespace is None:
            stack.append(node.expr)
        elif isinstance(node, ast.LogExpr) and node.op.lower() == "and":
            stack.extend((node.expr1, node.expr2))
        elif isinstance(node, ast.AttrExpr) and op_name(node) == "eq":
            sub = path.attribute.sub(node.attr_path.attr_name)
            value = literal(node.comp_value)
            terms[sub.name] = str(value) if isinstance(value, str) else value
        else:
            raise NoTarget(f"No value of '{path.attribute.name}' matches the filter, and it is not a "
                           "simple 'eq' filter a new value could be made from.")
    return terms


def _check_immutable(path: AttrPath, current, new=None) -> None:
    """RFC 7643 §2.2 immutable: once set, the value can only be sent unchanged."""
    if path.target.mutability == "immutable" and current not in (None, [], {}) and current != new:
        raise Mutability(f"The attribute '{path.key}' is immutable and cannot be changed.")


class _primary_guard:
    """RFC 7643 §2.4: one `primary: true` per attribute; the value just set wins."""

    def __init__(self, document: dict, path: AttrPath):
        self.document, self.path = document, path

    def __enter__(self):
        self.before = {id(item) for item in self._items() if item.get("primary") is True}

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False
        primaries = [item for item in self._items() if item.get("primary") is True]
        new = [item for item in primaries if id(item) not in self.before]
        if len(new) > 1:
            raise InvalidValue(f"'{self.path.attribute.name}' would have more than one value with \"primary\": true.")
        for item in primaries:
            if new and item is not new[0]:
                item.pop("primary")
        _tidy(self.document, self.path)
        return False

    def _items(self) -> list:
        if not (self.path.attribute.multi_valued and self.path.attribute.sub("primary")):
            return []
        values = _holder(self.document, self.path, create=False).get(self.path.attribute.name)
        return [item for item in values or [] if isinstance(item, dict)]


def _tidy(document: dict, path: AttrPath) -> None:
    """Drop what became empty: {} values, [] lists, an empty extension object."""
    holder = _holder(document, path, create=False)
    value = holder.get(path.attribute.name)
    if isinstance(value, list):
        value = [item for item in value if item not in ({}, None)]
        holder[path.attribute.name] = value
    if value in ([], {}, None):
        holder.pop(path.attribute.name, None)
    if path.container is not None and document.get(path.container) == {}:
        document.pop(path.container)
