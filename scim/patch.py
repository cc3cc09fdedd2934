"""PATCH (RFC 7644 §3.5.2): canonical operations and their application to one resource.

`Patch.parse(rt, body)` normalises IdP dialects (scim.dialects), parses every path with
scim.paths and types every value with the attribute table. The backend receives the `Patch`
and, inside its one transaction, either
- calls `patch.apply(current_attributes)` to get the new attribute dict (all operations, in
  order, on a copy: a failing operation leaves the resource unchanged), or
- for a big multi-valued attribute such as group members, calls `patch.split("members")`:
  `(MemberChange | None, rest)`; `rest.apply(...)` handles every other attribute and the
  MemberChange gives id sets (scim.patch_members) so members need not be loaded.

Rules: add/replace/remove with and without paths, value filters and sub-attributes,
extension URNs; one `primary: true` per attribute (the newly set one wins); `add` of a present
value is not repeated; `add` to `attr[filter].sub` with no match creates the value from the
filter's `eq` terms (Entra); `replace` through a filter with no match is noTarget; `remove`
through a filter with no match changes nothing; read-only targets are 400 mutability.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from scim import dialects, paths, validation
from scim.errors import InvalidPath, InvalidSyntax, InvalidValue, Mutability, NoTarget
from scim.patch_apply import OPERATIONS
from scim.resources import ResourceType

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass(frozen=True)
class PatchOperation:
    """One canonical operation: `op` is add/replace/remove, `path` is resolved, `value` is
    typed for the path's target (a list for a whole multi-valued attribute, an object for one
    value selected by a filter, a scalar for a sub-attribute); None for remove."""

    op: str
    path: paths.AttrPath
    value: Any = None


@dataclass(frozen=True)
class Patch:
    resource_type: ResourceType
    operations: tuple[PatchOperation, ...]

    @classmethod
    def parse(cls, rt: ResourceType, body: dict) -> "Patch":
        """RFC 7644 §3.5.2: a PatchOp request body as canonical operations."""
        schemas = body.get("schemas")
        if not isinstance(schemas, list) or PATCH_SCHEMA.lower() not in {str(s).lower() for s in schemas}:
            raise InvalidSyntax(f"A PATCH body must have \"schemas\": [\"{PATCH_SCHEMA}\"].")
        raw = next((v for k, v in body.items() if k.lower() == "operations"), None)
        operations = dialects.normalise_operations(rt, raw)
        return cls(rt, tuple(op for op in (_parse_operation(rt, item) for item in operations) if op))

    def apply(self, attributes: dict) -> dict:
        """The resource's attribute dict after every operation (the input is not changed).
        `attributes` must hold every attribute the operations touch and the required ones."""
        document = _copied(attributes)
        for operation in self.operations:
            OPERATIONS[operation.op](document, operation)
        validation.check_required(self.resource_type, document)
        return document

    def touches(self, name: str) -> bool:
        """Does any operation target the top-level attribute `name`?"""
        return any(op.path.attribute.name.lower() == name.lower() for op in self.operations)

    def split(self, name: str):
        """(MemberChange or None, the Patch without operations on `name`); None when an
        operation on `name` cannot be expressed as id sets (then apply the whole Patch)."""
        from scim.patch_members import member_change

        mine = [op for op in self.operations if op.path.attribute.name.lower() == name.lower()]
        rest = Patch(self.resource_type, tuple(op for op in self.operations if op not in mine))
        return member_change(mine), rest


def _copied(value):
    """A deep copy of JSON-shaped data, walking dicts and lists itself (half of
    copy.deepcopy's time, which first looks up how to copy each value); strings, numbers,
    booleans and None are shared, as deepcopy shares them; anything else goes to deepcopy."""
    kind = type(value)
    if kind is dict:
        return {key: _copied(item) for key, item in value.items()}
    if kind is list:
        return [_copied(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


def _parse_operation(rt: ResourceType, item: dict) -> PatchOperation | None:
    op, where = item.get("op"), f"Operation {item.get('index', 0) + 1}"
    if not isinstance(op, str) or op not in OPERATIONS:
        raise InvalidSyntax(f"{where}: 'op' must be add, replace or remove, not {op!r}.")
    path = item.get("path")
    if path is None:
        # RFC 7644 §3.5.2.2: remove without a path fails with noTarget.
        raise NoTarget(f"{where}: remove needs a 'path'.")
    if not isinstance(path, paths.AttrPath):
        if not isinstance(path, str):
            raise InvalidPath(f"{where}: 'path' must be a string.")
        path = paths.parse(path, rt)
    _check_mutability(op, path)
    if op == "remove":
        return PatchOperation(op, path)
    value = _typed_value(path, item.get("value"), where)
    if value is None:
        return PatchOperation("remove", path) if op == "replace" else None
    return PatchOperation(op, path, value)


def _check_mutability(op: str, path: paths.AttrPath) -> None:
    """RFC 7644 §3.5.2: operations must fit the target's mutability (readOnly: never)."""
    if path.attribute.read_only or path.target.read_only:
        raise Mutability(f"The attribute '{path.key}' is read-only and cannot be changed with PATCH.")


def _typed_value(path: paths.AttrPath, value, where: str):
    target = path.target
    value = dialects.coerce(target, value)
    if path.sub_attribute is not None:
        return validation.load_value(target, value, where=path.key)
    if path.value_filter is not None:
        return validation.load_single(target, value, where=path.key)
    if target.multi_valued and isinstance(value, dict):
        value = [value]
    if target.multi_valued and not isinstance(value, list):
        raise InvalidValue(f"{where}: '{path.key}' is multi-valued; its value must be an array.")
    return validation.load_value(target, value, where=path.key)
