"""Every answer under /scim/v2 is SCIM, errors included (RFC 7644 §3.12)."""
from __future__ import annotations

import json

import pytest

from scim.errors import (ERROR_SCHEMA, InvalidFilter, InvalidPath, InvalidSyntax, InvalidValue, InvalidVersion,
                         Mutability, NoTarget, NotModified, ScimError, Sensitive, TooMany, Uniqueness, render)
from tests.helpers import assert_scim_error

USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x"}


@pytest.mark.parametrize("cls,status,scim_type", [
    (InvalidFilter, 400, "invalidFilter"), (TooMany, 400, "tooMany"), (Uniqueness, 409, "uniqueness"),
    (Mutability, 400, "mutability"), (InvalidSyntax, 400, "invalidSyntax"), (InvalidPath, 400, "invalidPath"),
    (NoTarget, 400, "noTarget"), (InvalidValue, 400, "invalidValue"), (InvalidVersion, 400, "invalidVers"),
    (Sensitive, 403, "sensitive"),
])
def test_one_class_per_scim_type(cls, status, scim_type):
    """RFC 7644 §3.12: "status" is the HTTP status code as a JSON string."""
    assert render(cls()) == (status, {"schemas": [ERROR_SCHEMA], "status": str(status), "scimType": scim_type,
                                      "detail": cls.detail}, {})
    assert render(cls("named problem"))[1]["detail"] == "named problem"
    assert cls.__doc__ and "RFC 7644" in cls.__doc__


def test_not_modified_has_no_body():
    assert render(NotModified(headers={"ETag": 'W/"1"'})) == (304, None, {"ETag": 'W/"1"'})


def test_unknown_route_is_a_scim_404(api):
    assert_scim_error(api.get("/Nothing/here"), 404, None, "No SCIM endpoint or resource at /scim/v2/Nothing/here.")
    assert_scim_error(api.get("/Users/missing"), 404, None, "No User with id 'missing'.")


def test_wrong_method_is_a_scim_405(api):
    response = api.delete("/Users")
    assert_scim_error(response, 405, None, "DELETE is not supported on /scim/v2/Users.")
    assert "POST" in response.headers["Allow"]
    assert_scim_error(api.request("PATCH", "/ServiceProviderConfig"), 405)


def test_other_paths_keep_flask_errors(api):
    response = api.client.get("/elsewhere")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_oversized_body_is_a_scim_413(api):
    """The app's MAX_CONTENT_LENGTH (4096 bytes in the test app) is enforced as a SCIM error."""
    body = {**USER, "displayName": "x" * 5000}
    assert_scim_error(api.post("/Users", body), 413, None, "The request body is larger than 4096 bytes.")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_other_media_types_are_415(api, content_type):
    """RFC 7644 §3.8: SCIM requests carry application/scim+json (application/json accepted)."""
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.client.post("/scim/v2/Users", data=json.dumps(USER), headers=headers)
    assert_scim_error(response, 415, None, "must be application/scim+json or application/json")


def test_application_json_is_accepted(api):
    response = api.client.post("/scim/v2/Users", data=json.dumps(USER), headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 201 and response.mimetype == "application/scim+json"


@pytest.mark.parametrize("raw,detail", [
    ("{not json", "The request body is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2."),
    ("[1, 2]", "The request body must be a JSON object, not an array."),
    ('"text"', "The request body must be a JSON object, not a string."),
    ("", "The request body is empty; a JSON object is required."),
    ('{"a": NaN}', "NaN is not a JSON value"),
    ('{"a":' * 40 + "1" + "}" * 40, "The request body is nested deeper than 32 levels."),
    (b"\xff\xfe{}", "The request body is not UTF-8 encoded JSON."),
])
def test_bad_json_is_invalid_syntax(api, raw, detail):
    assert_scim_error(api.post("/Users", raw), 400, "invalidSyntax", detail)


def test_a_lone_surrogate_in_an_answer_is_escaped():
    """A document echoing a lone surrogate (say, in an error's detail) has no UTF-8 form; it is
    sent with ASCII escapes instead of failing as a 500."""
    from scim.blueprint import json_bytes

    assert json_bytes({"detail": "é \ud800"}) == b'{"detail": "\\u00e9 \\ud800"}'
    assert json_bytes({"detail": "é"}) == '{"detail": "é"}'.encode()


def test_unexpected_failure_is_a_500_with_request_id_and_no_cause(api, caplog):
    """STYLE: a 500 has a fixed detail and a request id; the cause goes to the log only."""
    response = api.get("/Users/explode")
    body = assert_scim_error(response, 500, None, "An unexpected error occurred. Request id: ")
    request_id = response.headers["X-Request-Id"]
    assert body["detail"] == f"An unexpected error occurred. Request id: {request_id}."
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert request_id in caplog.text and "hunter2" in caplog.text


def test_request_id_set_by_middleware_is_used(scim_app):
    from flask import g

    @scim_app.before_request
    def set_id():
        g.request_id = "req-123"

    response = scim_app.test_client().get("/scim/v2/Users/explode")
    assert response.status_code == 500 and response.headers["X-Request-Id"] == "req-123"


@pytest.mark.parametrize("body,status,scim_type,detail", [
    ({"userName": "x"}, 400, "invalidSyntax", "The 'schemas' attribute is required"),
    ({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "x"}, 400, "invalidSyntax",
     "The 'schemas' attribute must hold 'urn:ietf:params:scim:schemas:core:2.0:User'."),
    ({**USER, "userName": None}, 400, "invalidValue", "The attribute 'userName' is required."),
    ({**USER, "userName": 7}, 400, "invalidValue", "'userName' must be a string, not a number."),
    ({**USER, "name": "Bob"}, 400, "invalidValue", "'name' must be a JSON object."),
    ({**USER, "emails": {"value": "a@b"}}, 400, "invalidValue", "'emails' is multi-valued and must be a JSON array."),
    ({**USER, "emails": [{"value": "a@b", "primary": True}, {"value": "c@d", "primary": "true"}]}, 400, "invalidValue",
     "'emails' has more than one value with \"primary\": true."),
    ({**USER, "active": "yes"}, 400, "invalidValue", "'active' must be a boolean, not the string 'yes'."),
])
def test_bad_resource_bodies(api, body, status, scim_type, detail):
    """RFC 7644 §3.3: required attributes and types come from the attribute table."""
    assert_scim_error(api.post("/Users", body), status, scim_type, detail)


def test_read_only_and_unknown_attributes_are_ignored_on_create(api):
    """RFC 7644 §3.3: "attributes whose mutability is "readOnly" ... SHALL be ignored"; unknown
    attributes in a full resource are ignored too (README "SCIM API")."""
    body = {**USER, "id": "mine", "meta": {"created": "2000-01-01T00:00:00Z"}, "groups": [{"value": "g"}],
            "favouriteColour": "blue", "name": {"givenName": "A", "shoeSize": 44}, "UserName": "Mixed",
            "urn:ally:params:scim:schemas:extension:ally:2.0:User": {"status": "suspended", "badge": "gold"}}
    body.pop("userName")
    created = api.post("/Users", body).get_json()
    assert created["id"] != "mine" and created["userName"] == "Mixed"
    assert "groups" not in created and "favouriteColour" not in created and created["name"] == {"givenName": "A"}
    assert created["urn:ally:params:scim:schemas:extension:ally:2.0:User"] == {"status": "active", "badge": "gold"}


def test_put_keeps_immutable_values(api):
    """RFC 7644 §3.5.1: immutable "If one or more values are already set for the attribute, the
    input value(s) MUST match, or HTTP status code 400 SHOULD be returned with a "scimType"
    error code of "mutability"."""
    ext = "urn:ally:params:scim:schemas:extension:ally:2.0:User"
    created = api.post("/Users", {**USER, ext: {"badge": "gold"}}).get_json()
    assert api.put(f"/Users/{created['id']}", {**USER, "title": "t", ext: {"badge": "gold"}}).status_code == 200
    assert_scim_error(api.put(f"/Users/{created['id']}", {**USER, ext: {"badge": "silver"}}), 400, "mutability",
                      f"The attribute '{ext}:badge' is immutable and cannot be changed.")


def test_base_class_renders_generic_400():
    assert render(ScimError())[1] == {"schemas": [ERROR_SCHEMA], "status": "400", "detail": "The request is not valid."}
