"""Okta and Entra ID request dialects, normalised into canonical RFC 7644 form before any RFC
logic runs (STYLE principle 4). Each rule names the IdP and its recorded scenario
(tests/fixtures/idp/<idp>/<scenario>.json, replayed by tests/scim/test_dialects.py).

`normalise_resource(rt, body)` fixes POST/PUT bodies; `normalise_operations(rt, operations)`
turns PATCH operations into canonical ones: lower-case `op`, one attribute per operation
(path-less values expanded into one operation per attribute), values typed by the table.
"""
from __future__ import annotations

from scim2_filter_parser import ast

from scim import paths
from scim.errors import InvalidPath, InvalidSyntax, InvalidValue, ScimError
from scim.filter_ast import Quoted
from scim.resources import ResourceType
from scim.schemas import Attribute

_BOOLEAN_STRINGS = {"true": True, "false": False}


def normalise_resource(rt: ResourceType, body: dict) -> dict:
    """A POST/PUT body with IdP quirks fixed; unknown keys are left for validation to skip."""
    out = {}
    for key, value in body.items():
        # Entra (tests/scim/test_dialects.py, URN-keyed POST): an extension attribute under its full URN key
        # at the top level instead of nested under the extension's URN.
        nested = _urn_attribute(rt, key)
        if nested is not None and isinstance(out.setdefault(nested.schema.id, {}), dict):
            out[nested.schema.id][nested.attribute.name] = coerce(nested.attribute, value)
            continue
        extension = rt.schema_by_urn(key)
        if extension is not None and extension is not rt.schema and isinstance(value, dict) \
                and isinstance(out.setdefault(extension.id, {}), dict):
            out[extension.id].update({k: _coerce_in(extension.attribute(k), v) for k, v in value.items()})
            continue
        found = rt.top_level(key)
        out[key] = coerce(found[1], value) if found else value
    return out


def _coerce_in(attribute: Attribute | None, value):
    return coerce(attribute, value) if attribute is not None else value


def _urn_attribute(rt: ResourceType, key: str) -> paths.AttrPath | None:
    if not key.lower().startswith("urn:") or rt.schema_by_urn(key) is not None:
        return None
    try:
        path = paths.parse(key, rt, allow_filter=False)
    except ScimError:
        return None
    return path if path.extension and path.sub_attribute is None else None


def coerce(attribute: Attribute, value):
    """A value made to fit its attribute's type where an IdP sends it differently."""
    if attribute.multi_valued and isinstance(value, list):
        return [_coerce_single(attribute, item) for item in value]
    return _coerce_single(attribute, value)


def _coerce_single(attribute: Attribute, value):
    # Entra (entra/manager_bare_string, older documented form): a single-valued complex
    # attribute sent as a one-element array.
    if attribute.is_complex and not attribute.multi_valued and isinstance(value, list) \
            and len(value) == 1 and isinstance(value[0], dict):
        value = value[0]
    # Entra (entra/patch_default_dialect): booleans as the strings "False"/"True" (any case).
    if attribute.type == "boolean" and isinstance(value, str) and value.lower() in _BOOLEAN_STRINGS:
        return _BOOLEAN_STRINGS[value.lower()]
    if attribute.is_complex:
        # Entra (entra/manager_bare_string): manager as a bare string id instead of {"value": id}.
        if isinstance(value, str) and attribute.sub("value") is not None and not attribute.multi_valued:
            return {"value": value} if value else None
        if isinstance(value, dict):
            return {k: _coerce_in(attribute.sub(k), v) for k, v in value.items()}
    return value


def normalise_operations(rt: ResourceType, operations) -> list[dict]:
    """PATCH operations in canonical form: {"op", "path" (str, AttrPath or None), "value"}."""
    if not isinstance(operations, list) or not operations:
        # RFC 7644 §3.5.2 requires at least one operation; the Entra validator sends none
        # (tests/scim/test_dialects.py edge forms).
        raise InvalidSyntax("'Operations' must be a non-empty array of PATCH operations.")
    out = []
    for index, raw in enumerate(operations):
        out.extend(_normalise_operation(rt, raw, index))
    return out


def _normalise_operation(rt: ResourceType, raw, index: int) -> list[dict]:
    if not isinstance(raw, dict):
        raise InvalidSyntax(f"Operation {index + 1} must be a JSON object.")
    fields = {k.lower(): v for k, v in raw.items()}
    op = fields.get("op")
    # Entra (entra/patch_default_dialect): "Add"/"Replace"/"Remove" capitalised.
    op = op.lower() if isinstance(op, str) else op
    path, value = fields.get("path"), fields.get("value")
    if path is None and op in ("add", "replace"):
        return _expand_pathless(rt, op, value, index)
    if isinstance(path, str) and _is_extension_urn(rt, path):
        return _whole_extension(rt, op, rt.schema_by_urn(path), value, index)
    if op == "remove" and value is not None and isinstance(path, str):
        listed = _remove_listed_values(rt, path, value, index)
        if listed is not None:
            return listed
    if op in ("add", "replace") and value in (None, ""):
        _refuse_adding_nothing(rt, op, path, index)
        # Entra's null-update test (entra/null_and_empty_clears): null or "" clears.
        return [{"op": "remove", "path": path, "index": index}]
    return [{"op": op, "path": path, "value": value, "index": index}]


def _expand_pathless(rt: ResourceType, op: str, value, index: int) -> list[dict]:
    """RFC 7644 §3.5.2.1/§3.5.2.3: a path-less value is an object of attributes; one
    operation per attribute follows from that."""
    if not isinstance(value, dict):
        raise InvalidSyntax(f"Operation {index + 1}: '{op}' without a path needs an object as its value.")
    out = []
    for key, item in value.items():
        if key.lower() == "schemas":
            continue
        extension = rt.schema_by_urn(key)
        if extension is not None and extension is not rt.schema:
            out.extend(_whole_extension(rt, op, extension, item, index))
            continue
        # Entra with aadOptscim062020 (entra/patch_aadoptscim062020): dotted keys such as
        # "name.givenName" and full URN keys are paths.
        if _is_read_only(rt, key):
            # Okta (okta/group_rename_pathless_replace): the echoed read-only "id" (also meta, groups) is ignored.
            continue
        if item in (None, ""):
            _refuse_adding_nothing(rt, op, key, index)
            out.append({"op": "remove", "path": key, "index": index})
        else:
            out.append({"op": op, "path": key, "value": item, "index": index})
    return out


def _refuse_adding_nothing(rt: ResourceType, op: str, path_text, index: int) -> None:
    """An `add` of null or "" to a multi-valued attribute (members, roles, emails ...) is
    refused: RFC 7644 §3.5.2.1 adds values and requires one, and clearing there would drop
    every member or role on a value no IdP means as "remove all". A null `replace`, or an
    `add` to a single-valued attribute, still clears (Entra's null-update test)."""
    if op != "add" or not isinstance(path_text, str):
        return
    try:
        path = paths.parse(path_text, rt)
    except ScimError:
        return  # the operation itself reports the bad path
    if path.attribute.multi_valued and path.sub_attribute is None:
        raise InvalidValue(f"Operation {index + 1}: 'add' to '{path.key}' needs the values to add; "
                           f"use 'remove' (or 'replace' with an empty list) to take values away.")


def _is_read_only(rt: ResourceType, key: str) -> bool:
    try:
        path = paths.parse(key, rt, allow_filter=False)
    except ScimError:
        return False
    return path.target.read_only or path.attribute.read_only


def _is_extension_urn(rt: ResourceType, text: str) -> bool:
    schema = rt.schema_by_urn(text)
    return schema is not None and schema is not rt.schema


def _whole_extension(rt: ResourceType, op, schema, value, index: int) -> list[dict]:
    """A path naming a whole extension (RFC 7644 §3.10 allows the schema URN alone); a null
    or empty value clears it."""
    if op == "remove" or value in (None, "", {}):
        return [{"op": "remove", "path": f"{schema.id}:{attr.name}", "index": index}
                for attr in schema.attributes if not attr.read_only]
    if not isinstance(value, dict):
        raise InvalidValue(f"Operation {index + 1}: the value for '{schema.id}' must be an object.")
    return _expand_pathless(rt, op, {f"{schema.id}:{k}": v for k, v in value.items()}, index)


def _remove_listed_values(rt: ResourceType, path_text: str, values, index: int) -> list[dict] | None:
    """Entra (entra/group_members_remove_value_array): {"op": "Remove", "path": "members", "value":
    [{"value": id}]} removes just those members, not all of them (MS-COMPAT; RFC 7644
    §3.5.2.2 read literally would empty the group). One object alone names one value the same
    way; any other value is refused rather than read as "remove all". None when the path is not
    such a list."""
    try:
        path = paths.parse(path_text, rt)
    except InvalidPath:
        return None
    attribute = path.attribute
    if not (attribute.multi_valued and attribute.sub("value")) or path.value_filter or path.sub_attribute:
        return None
    items = [values] if isinstance(values, dict) else values
    ids = [item.get("value") if isinstance(item, dict) else None for item in items] if isinstance(items, list) else None
    if ids is None or not all(isinstance(i, str) for i in ids):
        raise InvalidValue(f"Removing listed values of '{path.key}' needs objects with a string 'value'.")
    return [{"op": "remove", "path": value_equals(path, i), "index": index} for i in ids]


def value_equals(path: paths.AttrPath, value: str) -> paths.AttrPath:
    """The value path `attr[value eq "<value>"]`, built as an AST (no quoting problems)."""
    expr = ast.AttrExpr("eq", ast.AttrPath("value", None, None), ast.CompValue(Quoted(value)))
    node = ast.Filter(expr, False, None)
    return paths.AttrPath(path.schema, path.attribute, None, node, path.extension)
