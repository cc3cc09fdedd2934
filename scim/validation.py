"""Request bodies (POST, PUT) checked and coerced against the attribute table.

`load_resource(rt, body)` returns the canonical attribute dict the backend receives: core and
common attributes at the top level under their canonical names, extension attributes under
the extension's URN, no `schemas`, `id` or `meta`. On input (RFC 7644 §3.3, §3.5.1):
- attribute names match in any case; values keep the case they were sent in;
- readOnly attributes are ignored (Okta echoes `id`, `meta` and `groups` on PUT);
- attributes the resource type does not define are ignored and logged (full-resource bodies
  carry whatever the IdP holds; what was stored is visible in the response). PATCH is stricter:
  an unknown path is 400 invalidPath (scim.patch);
- null, "" in place of an object, [] and {} mean "no value";
- a value of the wrong type is 400 invalidValue naming the attribute; a missing required
  attribute is 400 invalidValue; two `primary: true` values are 400 invalidValue (RFC 7643 §2.4).
"""
from __future__ import annotations

import logging

from scim.errors import InvalidSyntax, InvalidValue, Mutability
from scim.filter_ast import parse_datetime
from scim.resources import ResourceType
from scim.schemas import Attribute, Schema

log = logging.getLogger(__name__)
EMPTY = (None, [], {})


def load_resource(rt: ResourceType, body: dict) -> dict:
    """RFC 7644 §3.3: the body of a POST or PUT as a canonical attribute dict."""
    _check_schemas(rt, body)
    out, ignored = {}, []
    for key, value in body.items():
        if key.lower() == "schemas":
            continue
        extension = rt.schema_by_urn(key)
        if extension is not None and extension is not rt.schema:
            loaded = load_object(extension.attributes, value, where=extension.id)
            if loaded:
                out[extension.id] = loaded
            continue
        found = rt.top_level(key)
        if found is None:
            ignored.append(key)
            continue
        _put(out, found[1], value, found[1].name)
    if ignored:
        log.info("%s: ignored attributes the schema does not define: %s", rt.name, ", ".join(sorted(ignored)))
    check_required(rt, out)
    return out


def _check_schemas(rt: ResourceType, body: dict) -> None:
    """RFC 7643 §3: "schemas" is required and names the resource's core schema."""
    schemas = next((v for k, v in body.items() if k.lower() == "schemas"), None)
    if not isinstance(schemas, list) or not all(isinstance(s, str) for s in schemas):
        raise InvalidSyntax(f"The 'schemas' attribute is required: a list holding '{rt.schema.id}'.")
    if rt.schema.id.lower() not in {s.lower() for s in schemas}:
        raise InvalidSyntax(f"The 'schemas' attribute must hold '{rt.schema.id}'.")


def load_object(attributes: tuple[Attribute, ...], value, *, where: str) -> dict:
    """An object whose keys are `attributes` (a complex value or an extension's attributes)."""
    if value in EMPTY or value == "":
        return {}
    if not isinstance(value, dict):
        raise InvalidValue(f"'{where}' must be a JSON object.")
    by_name = {attr.name.lower(): attr for attr in attributes}
    out = {}
    for key, item in value.items():
        attribute = by_name.get(key.lower())
        if attribute is None:
            log.info("ignored unknown attribute %s.%s", where, key)
            continue
        _put(out, attribute, item, f"{where}.{attribute.name}")
    return out


def _put(out: dict, attribute: Attribute, value, where: str) -> None:
    if attribute.read_only:
        return
    loaded = load_value(attribute, value, where=where)
    if loaded not in EMPTY:
        out[attribute.name] = loaded


def load_value(attribute: Attribute, value, *, where: str | None = None):
    """One attribute's value coerced to its declared type; None when it holds no value."""
    where = where or attribute.name
    if value in EMPTY:
        return None
    if attribute.multi_valued:
        if not isinstance(value, list):
            raise InvalidValue(f"'{where}' is multi-valued and must be a JSON array.")
        items = [load_single(attribute, item, where=where) for item in value]
        items = [item for item in items if item not in EMPTY]
        check_one_primary(attribute, items, where)
        return items or None
    return load_single(attribute, value, where=where)


def load_single(attribute: Attribute, value, *, where: str):
    """One value (one element of a multi-valued attribute) of the attribute's type."""
    if attribute.is_complex:
        loaded = load_object(attribute.sub_attributes, value, where=where)
        missing = [sub.name for sub in attribute.sub_attributes if sub.required and sub.name not in loaded]
        if missing and isinstance(value, dict) and value:
            raise InvalidValue(f"Each value of '{where}' needs '{missing[0]}'.")
        return loaded or None
    if value is None:
        return None
    kind = attribute.type
    if kind in ("string", "reference", "binary") and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "decimal" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if kind == "dateTime" and isinstance(value, str) and parse_datetime(value) is not None:
        return value
    raise InvalidValue(f"'{where}' must be a {_TYPE_NAMES[kind]}, not {_describe(value)}.")


_TYPE_NAMES = {
    "string": "string", "reference": "reference (string)", "binary": "base64 string", "boolean": "boolean",
    "integer": "integer", "decimal": "number", "dateTime": "dateTime string (e.g. 2024-05-13T04:42:34Z)",
}


def _describe(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return f"the string {value!r}"
    return "an array" if isinstance(value, list) else "an object"


def check_one_primary(attribute: Attribute, items: list, where: str) -> None:
    """RFC 7643 §2.4: the primary attribute value "true" MUST appear no more than once."""
    if attribute.is_complex and attribute.sub("primary") is not None:
        if sum(1 for item in items if isinstance(item, dict) and item.get("primary") is True) > 1:
            raise InvalidValue(f"'{where}' has more than one value with \"primary\": true.")


def check_required(rt: ResourceType, attributes: dict) -> None:
    """RFC 7643 §2.2 required: the attribute must have a value after the request."""
    for schema, holder in _holders(rt, attributes):
        for attribute in schema.attributes:
            if attribute.required and not attribute.read_only and holder.get(attribute.name) in EMPTY:
                raise InvalidValue(f"The attribute '{_label(rt, schema, attribute)}' is required.")


def _holders(rt: ResourceType, attributes: dict):
    yield rt.schema, attributes
    for ext in rt.extensions:
        present = ext.schema.id in attributes
        if ext.required or present:
            yield ext.schema, attributes.get(ext.schema.id, {})


def _label(rt: ResourceType, schema: Schema, attribute: Attribute) -> str:
    return attribute.name if schema is rt.schema else f"{schema.id}:{attribute.name}"


def check_immutable(rt: ResourceType, current: dict, new: dict) -> None:
    """RFC 7644 §3.5.1: an immutable attribute that has a value may only be sent unchanged."""
    for schema in rt.all_schemas:
        old_holder = current if schema is rt.schema else current.get(schema.id, {})
        new_holder = new if schema is rt.schema else new.get(schema.id, {})
        for attribute in schema.attributes:
            if attribute.mutability != "immutable" or old_holder.get(attribute.name) in EMPTY:
                continue
            if new_holder.get(attribute.name) != old_holder.get(attribute.name):
                raise Mutability(f"The attribute '{_label(rt, schema, attribute)}' is immutable and cannot be changed.")
