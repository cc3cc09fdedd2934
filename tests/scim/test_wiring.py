"""The protocol inside the connector's request handling: request ids from connector.request_log
and JSON errors from connector.http_errors for every other path. scim.init_app runs before
http_errors.init_app, as in connector.create_app."""
from __future__ import annotations

import pytest
from flask import Flask, request
from werkzeug.exceptions import TooManyRequests

import scim
from connector import http_errors, request_log
from scim.resources import Extension, ResourceType, ScimConfig
from tests.helpers import Api, assert_scim_error
from tests.scim import testapp


@pytest.fixture
def wired(scim_db):
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 100
    request_log.init_app(app)
    users = ResourceType(name="User", endpoint="/Users", schema=testapp.USER, backend=testapp.PersonBackend("https://x"),
                         extensions=(Extension(testapp.ENTERPRISE_USER),),
                         filter_map=testapp.PERSON_FILTER_MAP, default_order=(testapp.Person.id,))
    scim.init_app(app, resource_types=[users], config=ScimConfig(base_url="https://x/scim/v2"))
    http_errors.init_app(app)
    return app.test_client()


def test_scim_paths_answer_scim_errors_and_others_json(wired):
    assert_scim_error(wired.get("/scim/v2/nope"), 404, None, "No SCIM endpoint or resource at /scim/v2/nope.")
    assert_scim_error(wired.delete("/scim/v2/Users"), 405)
    assert_scim_error(wired.post("/scim/v2/Users", data="x" * 500, headers={"Content-Type": "application/scim+json"}),
                      413, None, "The request body is larger than 100 bytes.")
    other = wired.get("/nope")
    assert other.status_code == 404 and other.mimetype == "application/json" and "schemas" not in other.get_json()


def test_500_names_the_request_id_of_the_request_log(wired):
    response = wired.get("/scim/v2/Users/explode", headers={"X-Request-Id": "idp-req-42"})
    body = assert_scim_error(response, 500)
    assert response.headers["X-Request-Id"] == "idp-req-42"
    assert body["detail"] == "An unexpected error occurred. Request id: idp-req-42."


@pytest.mark.parametrize("filter_map,message", [
    ({"id": testapp.Column(testapp.Person.public_id), "nope": testapp.Column(testapp.Person.title)},
     "filter map of User: The attribute 'nope' is not defined for User."),
    ({"id": testapp.Column(testapp.Person.public_id), "emails": testapp.Column(testapp.Person.title)},
     "filter map of User: 'emails' is multi-valued; map it with Child"),
    ({"id": testapp.Column(testapp.Person.public_id), "title": testapp.Child(testapp.PersonValue, None)},
     "filter map of User: Child needs a multi-valued attribute, not 'title'"),
    ({"userName": testapp.Column(testapp.Person.user_name)},
     "resource type User: give default_order or map 'id' in the filter map"),
])
def test_a_wrong_filter_map_fails_at_registration(filter_map, message):
    users = ResourceType(name="User", endpoint="/Users", schema=testapp.USER, backend=None, filter_map=filter_map)
    with pytest.raises(ValueError) as raised:
        scim.init_app(Flask(__name__), resource_types=[users], config=ScimConfig(base_url="https://x/scim/v2"))
    assert str(raised.value).startswith(message)


def test_app_handlers_of_specific_errors_keep_winning_under_scim(scim_db):
    """oauth answers its Refusal with its own app-level handler, also under /scim/v2."""

    class Refused(Exception):
        pass

    app = testapp.make_app(scim_db)

    @app.before_request
    def refuse():
        if request.path.startswith("/scim/v2/Users"):
            raise Refused()

    app.register_error_handler(Refused, lambda error: ({"refused": True}, 401))
    response = app.test_client().get("/scim/v2/Users")
    assert (response.status_code, response.get_json()) == (401, {"refused": True})


def test_http_errors_from_hooks_become_scim_documents_with_their_headers(scim_db):
    app = testapp.make_app(scim_db)

    @app.before_request
    def slow_down():
        raise TooManyRequests("Too many requests; retry later.", retry_after=30)

    response = app.test_client().get("/scim/v2/Users")
    assert_scim_error(response, 429, None, "Too many requests; retry later.")
    assert response.headers["Retry-After"] == "30"


def test_other_paths_keep_flask_behaviour(scim_db):
    app = testapp.make_app(scim_db)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/not-scim/boom")
    assert response.status_code == 500 and response.mimetype == "text/html"


def test_the_base_url_is_kept_as_a_uri():
    assert ScimConfig(base_url="https://Bücher.example:8443/scim/v2").base_url == \
        "https://xn--bcher-kva.example:8443/scim/v2"
    assert ScimConfig(base_url="https://scim.test/scim/v2").base_url == "https://scim.test/scim/v2"


def test_location_header_and_meta_location_are_one_uri_under_an_idn_host(scim_db):
    api = Api(testapp.make_app(scim_db, base_url="https://bücher.example/scim v2").test_client())
    created = api.post("/Users", {"schemas": [testapp.USER.id], "userName": "location@example.com"})
    assert created.status_code == 201, created.get_json()
    location = f"https://xn--bcher-kva.example/scim%20v2/Users/{created.get_json()['id']}"
    assert created.headers["Location"] == created.get_json()["meta"]["location"] == location
    fetched = api.get(f"/Users/{created.get_json()['id']}")
    assert fetched.headers["Location"] == fetched.get_json()["meta"]["location"] == location
