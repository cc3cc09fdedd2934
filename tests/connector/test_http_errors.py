"""Routes outside /scim/v2 answer errors as small JSON documents with the request id, never an
HTML page or a traceback; /scim/v2 keeps the SCIM package's own error handling."""
from flask import Flask, jsonify
from werkzeug.exceptions import NotFound

from connector import http_errors, request_log
from connector.http_errors import SERVER_ERROR_DETAIL


def assert_json_error(response, status, error):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == status
    assert body["error"] == error
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert b"<html" not in response.data.lower() and b"Traceback" not in response.data
    return body


def test_unknown_url_is_a_json_404(client):
    body = assert_json_error(client.get("/no/such/page"), 404, "Not Found")
    assert body["detail"].startswith("The requested URL was not found on the server.")


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.delete("/healthz")
    assert_json_error(response, 405, "Method Not Allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}


def test_unexpected_exception_is_a_json_500_with_a_fixed_detail(app, client, capsys):
    @app.get("/boom")
    def boom():
        raise ValueError("internal detail: table users is on fire")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom", headers={"X-Request-Id": "boom-1"})
    body = assert_json_error(response, 500, "Internal Server Error")
    assert body["detail"] == SERVER_ERROR_DETAIL
    assert body["request_id"] == "boom-1"
    assert b"on fire" not in response.data
    logged = capsys.readouterr().err
    assert '"request_id": "boom-1"' in logged and "table users is on fire" in logged


def test_request_too_large_is_json(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/upload")
    def upload():
        from flask import request

        return {"size": len(request.get_data())}

    assert_json_error(client.post("/upload", data=b"x" * 100), 413, "Request Entity Too Large")


class PackageError(Exception):
    """Stands in for a package's own exception class (an OAuth or SCIM error)."""


def scim_like_app():
    """An app with a stand-in for the SCIM package: app-level handlers registered before
    http_errors (what scim.init_app does in the real factory)."""
    app = Flask(__name__)
    request_log.init_app(app)

    @app.errorhandler(NotFound)
    def scim_not_found(error):
        return jsonify(schemas=["urn:ietf:params:scim:api:messages:2.0:Error"], status="404"), 404

    @app.errorhandler(PackageError)
    def package_error(error):
        return jsonify(package="rendered by its package"), 400

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.get("/oauth/raises")
    def raises():
        raise PackageError()

    http_errors.init_app(app)
    return app


def test_scim_paths_keep_the_scim_handler():
    client = scim_like_app().test_client()
    for path in ("/scim/v2/Nope", "/scim/v2"):
        body = client.get(path).get_json()
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_other_paths_get_the_generic_document_despite_an_app_level_scim_handler():
    client = scim_like_app().test_client()
    for path in ("/nope", "/scim/v20/Users", "/scimv2"):
        response = client.get(path)
        assert_json_error(response, 404, "Not Found")
        assert "schemas" not in response.get_json()


def test_handlers_of_a_package_s_own_errors_apply_on_every_path():
    response = scim_like_app().test_client().get("/oauth/raises")
    assert (response.status_code, response.get_json()) == (400, {"package": "rendered by its package"})


def test_every_app_level_error_handler_leaves_other_paths_to_the_generic_document(app):
    """Guards the factory's order: a package that registers app-level error handlers after
    http_errors.init_app would answer for /healthz and /metrics too."""
    handlers = [(code, exc_class, handler) for code, by_class in app.error_handler_spec[None].items()
                for exc_class, handler in by_class.items()]
    assert handlers, "http_errors registers at least its own handler"
    unwrapped = [(code, exc_class.__name__) for code, exc_class, handler in handlers
                 if http_errors.is_generic(exc_class) and handler is not http_errors.render_error
                 and not getattr(handler, "_scim_paths_only", False)]
    assert unwrapped == [], "register these before http_errors.init_app in connector.create_app"
