"""Load the recorded IdP exchanges under tests/fixtures/idp and replay their bookkeeping.

A scenario is the sequence of requests Okta or Entra ID sends, each with the status and the
parts of the response the IdP relies on (tests/fixtures/README.md has the file format).
Server-generated values are placeholders: a step's "capture" binds "{{name}}" from its
response (RFC 6901 JSON Pointers), later steps use it; "{{any}}" in an expected response matches
any present value. Pure Python: nothing here knows the app, so the replay test drives the
requests with whatever client it has and calls `check_response` on each answer.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
IDP_DIR = FIXTURES_DIR / "idp"
RFC_DIR = FIXTURES_DIR / "rfc"
IDPS = ("okta", "entra")
SCIM_BASE = "/scim/v2"

ANY = "{{any}}"
RESERVED = frozenset({"any"})
PLACEHOLDER = re.compile(r"\{\{([A-Za-z][A-Za-z0-9_.]*)\}\}")


class FixtureError(ValueError):
    """The fixture itself is malformed (unknown placeholder, bad pointer, ...)."""


class FixtureMismatch(AssertionError):
    """The server's answer differs from what the fixture says the IdP relies on."""


# --- finding and loading --------------------------------------------------------------------

def scenario_paths(idp: str | None = None) -> list[Path]:
    """Every scenario file, or those of one IdP ("okta" or "entra"), in a stable order."""
    if idp is not None and idp not in IDPS:
        raise FixtureError(f"unknown IdP {idp!r}; expected one of {', '.join(IDPS)}")
    folders = [IDP_DIR / idp] if idp else [IDP_DIR / name for name in IDPS]
    return sorted(path for folder in folders for path in folder.glob("*.json"))


def scenario_id(path: Path) -> str:
    """'okta/create_user' for tests/fixtures/idp/okta/create_user.json (a readable test id)."""
    return f"{path.parent.name}/{path.stem}"


def load_scenario(path_or_id: Path | str) -> dict[str, Any]:
    path = Path(path_or_id)
    if not path.is_absolute() and path.suffix != ".json":
        path = IDP_DIR / f"{path_or_id}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def rfc_example_paths() -> list[Path]:
    return sorted(RFC_DIR.glob("*.json"))


def load_rfc_example(name: str) -> dict[str, Any]:
    """The RFC example file named e.g. 'rfc7644-3.5.2.1-patch_op-add_members' (no .json)."""
    return json.loads((RFC_DIR / f"{name}.json").read_text(encoding="utf-8"))


# --- placeholders ----------------------------------------------------------------------------

def placeholders(value: Any) -> set[str]:
    """Names of all "{{name}}" placeholders anywhere inside a JSON value (keys and strings)."""
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(placeholders(k) | placeholders(v) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(placeholders(item) for item in value))
    return set()


def substitute(value: Any, bindings: dict[str, Any]) -> Any:
    """A copy of a JSON value with every "{{name}}" replaced by its bound value.

    A string that is exactly one placeholder becomes the bound value itself (keeping its JSON
    type); a placeholder inside a longer string is replaced by the value's text.
    """
    if isinstance(value, str):
        return _substitute_text(value, bindings)
    if isinstance(value, dict):
        return {substitute(k, bindings): substitute(v, bindings) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(item, bindings) for item in value]
    return value


def _substitute_text(text: str, bindings: dict[str, Any]) -> Any:
    whole = PLACEHOLDER.fullmatch(text)
    if whole:
        return _bound(whole.group(1), bindings)
    return PLACEHOLDER.sub(lambda m: str(_bound(m.group(1), bindings)), text)


def _bound(name: str, bindings: dict[str, Any]) -> Any:
    if name in RESERVED:
        raise FixtureError(f"{{{{{name}}}}} may only appear in an expected response")
    if name not in bindings:
        raise FixtureError(f"placeholder {{{{{name}}}}} is not captured by an earlier step")
    return bindings[name]


# --- building a request ----------------------------------------------------------------------

def request_for(step: dict[str, Any], bindings: dict[str, Any], base: str = SCIM_BASE) -> dict[str, Any]:
    """The request a step describes, placeholders filled in.

    Returns {"method", "url", "headers", "json"}: url is base + path + the encoded query
    (spaces as %20, as Okta and Entra send them), json is the body or None. Authorization is
    never in a fixture; the caller adds its own credentials.
    """
    url = base + substitute(step["path"], bindings)
    query = substitute(step.get("query", {}), bindings)
    if query:
        url += "?" + urlencode(query, quote_via=quote)
    return {
        "method": step["method"],
        "url": url,
        "headers": substitute(step.get("headers", {}), bindings),
        "json": substitute(step["request"], bindings) if "request" in step else None,
    }


# --- checking a response ---------------------------------------------------------------------

def expected_statuses(step: dict[str, Any]) -> tuple[int, ...]:
    status = step["status"]
    return tuple(status) if isinstance(status, list) else (status,)


def check_response(step: dict[str, Any], status: int, body: Any, bindings: dict[str, Any]) -> None:
    """Assert one answer against its step, then add the step's captures to `bindings`.

    `body` is the parsed JSON body, or None when the response had none. A step whose status
    list allows 204 checks "response" and "absent" only when a body came back.
    """
    allowed = expected_statuses(step)
    if status not in allowed:
        raise FixtureMismatch(f"status {status}, expected {' or '.join(map(str, allowed))}; body: {body!r}")
    if status == 204 and body not in (None, b"", ""):
        raise FixtureMismatch(f"204 No Content came with a body: {body!r}")
    if body is None:
        if "response" in step and 204 not in allowed:
            raise FixtureMismatch(f"status {status} came without the body the step expects")
        return
    if "response" in step:
        match_subset(step["response"], body, bindings)
    assert_absent(body, step.get("absent", []))
    capture(step, body, bindings)


def match_subset(expected: Any, actual: Any, bindings: dict[str, Any], where: str = "$") -> None:
    """Assert `actual` contains `expected`.

    Objects: every expected key is present and matches (extra keys are fine). Lists: the same
    length, and each expected item matches a different actual item, in any order (SCIM gives
    multi-valued attributes no order). Scalars: equal and of the same JSON type, so 1 is not
    "1" and true is not 1. "{{any}}" matches any present value; other placeholders are
    substituted from `bindings` first.
    """
    if expected == ANY:
        return
    if isinstance(expected, str):
        expected = substitute(expected, bindings)
    if isinstance(expected, dict):
        _match_object(expected, actual, bindings, where)
    elif isinstance(expected, list):
        _match_list(expected, actual, bindings, where)
    elif not _same_scalar(expected, actual):
        raise FixtureMismatch(f"{where}: expected {expected!r}, got {actual!r}")


def _match_object(expected: dict, actual: Any, bindings: dict[str, Any], where: str) -> None:
    if not isinstance(actual, dict):
        raise FixtureMismatch(f"{where}: expected an object, got {actual!r}")
    for key, value in expected.items():
        key = substitute(key, bindings)
        if key not in actual:
            raise FixtureMismatch(f"{where}: missing {key!r} (present: {', '.join(sorted(actual))})")
        match_subset(value, actual[key], bindings, f"{where}.{key}")


def _match_list(expected: list, actual: Any, bindings: dict[str, Any], where: str) -> None:
    if not isinstance(actual, list):
        raise FixtureMismatch(f"{where}: expected a list, got {actual!r}")
    if len(expected) != len(actual):
        raise FixtureMismatch(f"{where}: expected {len(expected)} items, got {len(actual)}: {actual!r}")
    if not _assign(expected, actual, set(), bindings, where):
        raise FixtureMismatch(f"{where}: items {actual!r} do not match {_readable(expected, bindings)!r}")


def _assign(expected: list, actual: list, used: set[int], bindings: dict[str, Any], where: str) -> bool:
    """Backtracking search for a one-to-one pairing of expected items with actual items."""
    if not expected:
        return True
    head, rest = expected[0], expected[1:]
    for index, candidate in enumerate(actual):
        if index in used or not _matches(head, candidate, bindings, where):
            continue
        if _assign(rest, actual, used | {index}, bindings, where):
            return True
    return False


def _matches(expected: Any, actual: Any, bindings: dict[str, Any], where: str) -> bool:
    try:
        match_subset(expected, actual, bindings, where)
    except FixtureMismatch:
        return False
    return True


def _same_scalar(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return expected == actual
    return type(expected) is type(actual) and expected == actual


def _readable(value: Any, bindings: dict[str, Any]) -> Any:
    """The expected value with bound placeholders filled in and "{{any}}" left as is."""
    if value == ANY:
        return value
    if isinstance(value, dict):
        return {k: _readable(v, bindings) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(item, bindings) for item in value]
    return substitute(value, bindings) if isinstance(value, str) else value


def assert_absent(body: Any, pointers: list[str]) -> None:
    """Assert nothing with a value sits at these pointers ("*" stands for every list item).

    Null, "", [] and {} count as absent: RFC 7643 §2.5 makes them all mean "unassigned".
    """
    for pointer in pointers:
        found = [value for value in resolve(body, pointer) if value not in (None, "", [], {})]
        if found:
            raise FixtureMismatch(f"{pointer} must be absent, found {found!r}")


def capture(step: dict[str, Any], body: Any, bindings: dict[str, Any]) -> None:
    """Bind each name in the step's "capture" to the single value at its JSON Pointer."""
    for name, pointer in step.get("capture", {}).items():
        values = resolve(body, pointer)
        if len(values) != 1 or values[0] in (None, ""):
            raise FixtureMismatch(f"capture {name!r}: {pointer} holds no single value in {body!r}")
        bindings[name] = values[0]


def resolve(document: Any, pointer: str) -> list[Any]:
    """The values at an RFC 6901 JSON Pointer; a "*" segment fans out over a list.

    A pointer that leads nowhere gives an empty list (so it can express absence).
    """
    if pointer and not pointer.startswith("/"):
        raise FixtureError(f"{pointer!r} is not a JSON Pointer (it must start with '/')")
    nodes = [document]
    for segment in pointer.split("/")[1:]:
        segment = segment.replace("~1", "/").replace("~0", "~")
        nodes = [child for node in nodes for child in _children(node, segment)]
    return nodes


def _children(node: Any, segment: str) -> list[Any]:
    if isinstance(node, dict):
        return [node[segment]] if segment in node else []
    if isinstance(node, list):
        if segment == "*":
            return list(node)
        if segment.isdigit() and int(segment) < len(node):
            return [node[int(segment)]]
    return []
