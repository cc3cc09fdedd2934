"""Shared test helpers: a small SCIM client over Flask's test client, the SCIM error assertion
(status, scimType and detail), and polling for what another process does (wait_until).
Fixture files load through tests/idp_fixtures.py."""
from __future__ import annotations

import json
import time

SCIM_JSON = "application/scim+json"


class ScimVerbs:
    """get/post/put/delete over the class's own request(method, path, body=None, **kwargs)."""

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def put(self, path, body, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


class Api(ScimVerbs):
    """Small helpers over the test client; bodies go out as application/scim+json."""

    prefix = "/scim/v2"

    def __init__(self, client, headers=None):
        self.client = client
        self.headers = dict(headers or {})  # sent with every request (e.g. Authorization)

    def request(self, method, path, body=None, headers=None, **kwargs):
        data = None if body is None else (body if isinstance(body, (str, bytes)) else json.dumps(body))
        headers = {**self.headers, **(headers or {})}
        if data is not None:
            headers = {"Content-Type": SCIM_JSON, **headers}
        return self.client.open(self.prefix + path, method=method, data=data, headers=headers, **kwargs)

    def patch(self, path, body, **kwargs):
        return self.request("PATCH", path, body, **kwargs)


    def create_user(self, user_name, **attributes):
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, **attributes}
        response = self.post("/Users", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def create_group(self, name, members=(), **attributes):
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name,
                "members": [{"value": m} for m in members], **attributes}
        response = self.post("/Groups", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def ops(self, path, *operations, **kwargs):
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}
        return self.patch(path, body, **kwargs)


def assert_scim_error(response, status, scim_type=None, detail=None):
    """RFC 7644 §3.12: the error document, status as a string, the scimType and the detail."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == SCIM_JSON
    body = response.get_json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type
    if detail is not None:
        assert detail in body["detail"], body["detail"]
    return body


def wait_until(condition, what: str, timeout: float = 60) -> None:
    """Poll until condition() is true; fail naming `what` after `timeout` seconds (never hangs)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.05)
