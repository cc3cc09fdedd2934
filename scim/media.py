"""Content types and JSON bodies (RFC 7644 §3.1, §3.8).

Responses are application/scim+json. Request bodies are accepted as application/scim+json or
application/json (415 otherwise); the body must be one JSON object, not nested deeper than
MAX_DEPTH (400), no larger than the app's MAX_CONTENT_LENGTH, with at most MAX_OBJECT_KEYS keys
per object and MAX_ARRAY_ITEMS items per array (413); its strings and numbers must pass
scim.limits (400 invalidValue). Every refusal is a SCIM error.
"""
from __future__ import annotations

import json

from werkzeug.exceptions import RequestEntityTooLarge

from scim import limits
from scim.errors import InvalidSyntax, PayloadTooLarge, UnsupportedMediaType

SCIM_JSON = "application/scim+json"
ACCEPTED_TYPES = frozenset({SCIM_JSON, "application/json"})
MAX_DEPTH = 32
MAX_OBJECT_KEYS = 1000       # a User has a few dozen attributes
MAX_ARRAY_ITEMS = 100_000    # a group's members, /Bulk's operations: both well inside the body limit


def read_json_body(request) -> dict:
    """The request's JSON object, after the content-type and size checks."""
    check_content_type(request.headers.get("Content-Type"))
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise PayloadTooLarge(_too_large_detail(request)) from None
    limit = request.max_content_length
    if limit is not None and len(raw) > limit:
        raise PayloadTooLarge(_too_large_detail(request))
    return parse_json_object(raw)


def check_content_type(header: str | None) -> None:
    """RFC 7644 §3.8: clients send application/scim+json; application/json is accepted too."""
    media_type = (header or "").split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_TYPES:
        shown = media_type or "no Content-Type"
        raise UnsupportedMediaType(
            f"Request bodies must be application/scim+json or application/json, not {shown}.")


def parse_json_object(raw: bytes | str) -> dict:
    """Parse one JSON object; bad JSON, a non-object or deep nesting is 400 invalidSyntax."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise InvalidSyntax("The request body is not UTF-8 encoded JSON.") from None
    if not text.strip():
        raise InvalidSyntax("The request body is empty; a JSON object is required.")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=limits.json_integer,
                           parse_float=limits.json_float)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise InvalidSyntax(f"The request body is not valid JSON: {exc.msg} at {where}.") from None
    except RecursionError:
        raise InvalidSyntax(f"The request body is nested deeper than {MAX_DEPTH} levels.") from None
    if not isinstance(value, dict):
        raise InvalidSyntax(f"The request body must be a JSON object, not {_json_type(value)}.")
    _check_shape(value)
    return value


def _refuse_constant(name: str):
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)


def _check_shape(value) -> None:
    """Depth, keys per object, items per array and every string (keys too), iteratively (no
    recursion limit to hit)."""
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if level > MAX_DEPTH:
            raise InvalidSyntax(f"The request body is nested deeper than {MAX_DEPTH} levels.")
        if isinstance(node, dict):
            if len(node) > MAX_OBJECT_KEYS:
                raise PayloadTooLarge(f"An object in the request body has {len(node)} keys; at most "
                                      f"{MAX_OBJECT_KEYS} are allowed.")
            for key, child in node.items():
                limits.check_text(key, f"The key {key!r} in the request body")
                stack.append((child, level + 1))
        elif isinstance(node, list):
            if len(node) > MAX_ARRAY_ITEMS:
                raise PayloadTooLarge(f"An array in the request body has {len(node)} items; at most "
                                      f"{MAX_ARRAY_ITEMS} are allowed.")
            stack.extend((child, level + 1) for child in node)
        elif isinstance(node, str):
            limits.check_text(node, f"The value {_shortened(node)!r} in the request body")


def _shortened(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "..."


def _json_type(value) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _too_large_detail(request) -> str:
    return f"The request body is larger than {request.max_content_length} bytes."
