"""Every recorded Okta and Entra ID scenario (tests/fixtures/idp) replayed against the real app:
connector.create_app, a real bearer token of the "acme" organisation made through oauth's API,
the directory on SQLite and PostgreSQL. A scenario is the exact sequence of requests the IdP
sends; each answer must hold what the IdP relies on (tests/fixtures/README.md).
"""
from __future__ import annotations

import pytest

from tests import idp_fixtures as fx

SCENARIOS = fx.scenario_paths()


@pytest.mark.parametrize("path", SCENARIOS, ids=[fx.scenario_id(p) for p in SCENARIOS])
def test_recorded_idp_scenario(client, idp_token, path):
    bindings = {}
    for step in fx.load_scenario(path)["steps"]:
        request = fx.request_for(step, bindings)
        response = client.open(request["url"], method=request["method"], json=request["json"],
                               headers={**request["headers"], "Authorization": f"Bearer {idp_token}"})
        assert response.mimetype in ("application/scim+json", None), step["name"]
        try:
            fx.check_response(step, response.status_code, response.get_json(silent=True), bindings)
        except fx.FixtureMismatch as mismatch:
            pytest.fail(f"step {step['name']!r}: {mismatch}")
