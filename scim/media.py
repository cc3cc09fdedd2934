"""Content types and JSON bodies (RFC 7644 §3.1, §3.8).

Responses are application/scim+json. Request bodies are accepted as application/scim+json or
application/json (415 otherwise); the body must be one JSON object, not nested deeper than
MAX_DEPTH, and no larger than the app's MAX_CONTENT_LENGTH (413). Every refusal is a SCIM error.
"""
from __future__ import annotations

import json

from werkzeug.exceptions import RequestEntityTooLarge

from scim.errors import InvalidSyntax, PayloadTooLarge, UnsupportedMediaType

SCIM_JSON = "application/scim+json"
ACCEPTED_TYPES = frozenset({SCIM_JSON, "application/json"})
MAX_DEPTH = 32


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
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise InvalidSyntax(f"The request body is not valid JSON: {exc.msg} at {where}.") from None
    except RecursionError:
        raise InvalidSyntax(f"The request body is nested deeper than {MAX_DEPTH} levels.") from None
    if not isinstance(value, dict):
        raise InvalidSyntax(f"The request body must be a JSON object, not {_json_type(value)}.")
    if _depth(value) > MAX_DEPTH:
        raise InvalidSyntax(f"The request body is nested deeper than {MAX_DEPTH} levels.")
    return value


def _refuse_constant(name: str):
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)


def _depth(value) -> int:
    """Nesting depth of a parsed JSON value, iteratively (no recursion limit to hit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


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
