"""Every fixture file is well formed, so a broken fixture fails here and not deep in a replay.

RFC examples: valid JSON with source/description/body (and method/path for requests).
IdP scenarios: the step format of tests/fixtures/README.md, every placeholder captured by an
earlier step, every capture used later, users' emails in the test org's domain, and each
scenario replayable against its own expectations.
"""
from __future__ import annotations

import json
import re
from itertools import count
from pathlib import Path

import pytest

from tests import idp_fixtures as fx

RFC_FILES = fx.rfc_example_paths()
IDP_FILES = fx.scenario_paths()
ALL_JSON = sorted(fx.FIXTURES_DIR.rglob("*.json"))

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
WITH_BODY = {"POST", "PUT", "PATCH"}
RFC_KEYS = {"source", "description", "method", "path", "query", "headers", "status", "body", "fixes"}
SCENARIO_KEYS = {"idp", "source", "description", "steps"}
STEP_KEYS = {"name", "check", "method", "path", "query", "headers", "request", "status", "response",
             "absent", "capture"}
RFC_NAME = re.compile(r"^rfc(7643|7644)-(\d+(?:\.\d+)*)-[a-z0-9_.]+-[a-z0-9_]+$")
SOURCE_KEY = re.compile(r"\[[A-Z0-9][A-Z0-9-]*\]")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+")
ORG_DOMAIN = "@acme.example"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _ids(paths):
    return [str(p.relative_to(fx.FIXTURES_DIR)) for p in paths]


def test_fixture_folders_are_not_empty():
    assert RFC_FILES, "no RFC examples under tests/fixtures/rfc"
    for idp in fx.IDPS:
        assert fx.scenario_paths(idp), f"no scenarios under tests/fixtures/idp/{idp}"


@pytest.mark.parametrize("path", ALL_JSON, ids=_ids(ALL_JSON))
def test_every_fixture_is_valid_json(path: Path):
    json.loads(path.read_text(encoding="utf-8"))


# --- RFC examples ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", RFC_FILES, ids=_ids(RFC_FILES))
def test_rfc_example_shape(path: Path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert set(doc) <= RFC_KEYS, f"unknown keys {set(doc) - RFC_KEYS}"
    assert {"source", "description", "body"} <= set(doc), "source, description and body are required"
    name = RFC_NAME.match(path.stem)
    assert name, f"{path.name} is not named rfc76xx-<section>-<topic>-<case>.json"
    rfc, section = name.groups()
    assert doc["source"].startswith(f"RFC {rfc} §"), doc["source"]
    assert f"§{section}" in doc["source"], f"file name says §{section}, source says {doc['source']!r}"
    assert doc["description"].strip()
    if "method" in doc:
        assert doc["method"] in METHODS and doc["path"].startswith("/"), "a request needs method and path"
    assert "path" not in doc or "method" in doc
    assert isinstance(doc.get("status", 200), int)
    assert all(isinstance(fix, str) and fix for fix in doc.get("fixes", [])), "fixes is a list of sentences"
    assert not fx.placeholders(doc), "RFC examples hold no placeholders"


# --- IdP scenarios: shape --------------------------------------------------------------------

@pytest.mark.parametrize("path", IDP_FILES, ids=_ids(IDP_FILES))
def test_scenario_shape(path: Path):
    doc = fx.load_scenario(path)
    assert set(doc) == SCENARIO_KEYS, f"keys must be exactly {sorted(SCENARIO_KEYS)}"
    assert doc["idp"] == path.parent.name, "idp must name the folder the file is in"
    assert SOURCE_KEY.search(doc["source"]), "source must cite a source key from IDP.md, e.g. [OKTA-REF]"
    assert doc["description"].strip()
    assert re.fullmatch(r"[a-z0-9_]+", path.stem), "scenario file names are snake_case"
    assert isinstance(doc["steps"], list) and doc["steps"], "a scenario has steps"
    for number, step in enumerate(doc["steps"], 1):
        _check_step(step, f"step {number} ({step.get('name', '?')})")


def _check_step(step: dict, where: str) -> None:
    assert set(step) <= STEP_KEYS, f"{where}: unknown keys {set(step) - STEP_KEYS}"
    assert {"name", "method", "path", "status"} <= set(step), f"{where}: name, method, path, status are required"
    assert step["method"] in METHODS, f"{where}: method {step['method']!r}"
    assert step["path"].startswith("/") and "?" not in step["path"], f"{where}: path without query string"
    assert step.get("check", True) is True, f"{where}: check is true or left out"
    _check_strings_map(step.get("query", {}), f"{where}: query")
    _check_strings_map(step.get("headers", {}), f"{where}: headers")
    assert "authorization" not in {k.lower() for k in step.get("headers", {})}, f"{where}: no credentials"
    assert ("request" in step) == (step["method"] in WITH_BODY), f"{where}: a body exactly for POST/PUT/PATCH"
    statuses = _check_status(step["status"], where)
    if statuses == (204,):
        assert "response" not in step and "absent" not in step, f"{where}: 204 has no body to match"
    if "capture" in step:
        assert 204 not in statuses, f"{where}: cannot capture from a response that may have no body"
        for name, pointer in step["capture"].items():
            assert fx.PLACEHOLDER.fullmatch("{{%s}}" % name) and name not in fx.RESERVED, f"{where}: name {name!r}"
            assert pointer.startswith("/") and "*" not in pointer, f"{where}: capture {pointer!r} is not a pointer"
    assert all(p.startswith("/") for p in step.get("absent", [])), f"{where}: absent holds JSON Pointers"
    if step["method"] == "PATCH":
        _check_patch_body(step["request"], where)


def _check_strings_map(mapping, where: str) -> None:
    assert isinstance(mapping, dict), f"{where} is an object"
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()), f"{where}: strings only"


def _check_status(status, where: str) -> tuple[int, ...]:
    statuses = tuple(status) if isinstance(status, list) else (status,)
    assert statuses and all(type(s) is int and 100 <= s <= 599 for s in statuses), f"{where}: status {status!r}"
    return statuses


def _check_patch_body(body: dict, where: str) -> None:
    assert body.get("schemas") == [PATCH_OP], f"{where}: a PATCH body names the PatchOp schema"
    operations = body.get("Operations")
    assert isinstance(operations, list) and operations, f"{where}: at least one operation"
    assert all(isinstance(op, dict) and "op" in op for op in operations), f"{where}: each operation has 'op'"


# --- IdP scenarios: placeholders -------------------------------------------------------------

@pytest.mark.parametrize("path", IDP_FILES, ids=_ids(IDP_FILES))
def test_every_placeholder_is_captured_by_an_earlier_step(path: Path):
    bound: set[str] = set()
    for number, step in enumerate(fx.load_scenario(path)["steps"], 1):
        sent = fx.placeholders([step["path"], step.get("query", {}), step.get("headers", {}), step.get("request")])
        assert not sent & fx.RESERVED, f"step {number}: {{{{any}}}} only belongs in an expected response"
        used = sent | (fx.placeholders(step.get("response")) - fx.RESERVED)
        assert used <= bound, f"step {number} uses {sorted(used - bound)} before any step captures them"
        bound |= set(step.get("capture", {}))


@pytest.mark.parametrize("path", IDP_FILES, ids=_ids(IDP_FILES))
def test_every_capture_is_used_by_a_later_step(path: Path):
    steps = fx.load_scenario(path)["steps"]
    for number, step in enumerate(steps, 1):
        later = fx.placeholders([{k: v for k, v in s.items() if k != "capture"} for s in steps[number:]])
        unused = set(step.get("capture", {})) - later
        assert not unused, f"step {number} captures {sorted(unused)} but no later step uses them"


@pytest.mark.parametrize("path", IDP_FILES, ids=_ids(IDP_FILES))
def test_users_are_in_the_test_organisation_domain(path: Path):
    """The test org "acme" auto-joins acme.example; an address elsewhere changes the scenario."""
    for number, step in enumerate(fx.load_scenario(path)["steps"], 1):
        for address in EMAIL.findall(json.dumps(step.get("request"))):
            assert address.lower().endswith(ORG_DOMAIN), f"step {number}: {address} is outside acme.example"


@pytest.mark.parametrize("path", IDP_FILES, ids=_ids(IDP_FILES))
def test_scenario_replays_against_its_own_expectations(path: Path):
    """Walk the bookkeeping with synthetic answers built from each step's expected response.

    Proves every request can be built, every capture pointer lands on a value the expected
    response promises, and the loader accepts the scenario end to end.
    """
    bindings: dict = {}
    fresh = count(1)
    for step in fx.load_scenario(path)["steps"]:
        request = fx.request_for(step, bindings)
        assert "{{" not in json.dumps(request), f"unfilled placeholder in {request}"
        status = next((s for s in fx.expected_statuses(step) if s != 204), 204)
        body = _synthetic(step["response"], bindings, fresh) if "response" in step else None
        if body is None and status != 204:
            body = {}
        fx.check_response(step, status, body, bindings)


def _synthetic(expected, bindings: dict, fresh):
    if expected == fx.ANY:
        return f"synthetic-{next(fresh)}"
    if isinstance(expected, dict):
        return {fx.substitute(k, bindings): _synthetic(v, bindings, fresh) for k, v in expected.items()}
    if isinstance(expected, list):
        return [_synthetic(item, bindings, fresh) for item in expected]
    return fx.substitute(expected, bindings)
