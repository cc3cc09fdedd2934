"""connector.flask_app.ConnectorFlask: Flask's sync check, asked once per function."""
from flask import after_this_request

from connector.flask_app import MAX_KEPT


def test_hooks_and_views_still_run_and_the_kept_answers_stay_bounded(app, client):
    ran = []

    @app.get("/probe-after-this-request")
    def probe():
        @after_this_request
        def mark(response):  # a new function on every request
            ran.append(True)
            return response
        return "ok"

    for _ in range(3):
        assert client.get("/probe-after-this-request").data == b"ok"
    assert len(ran) == 3
    for number in range(MAX_KEPT + 10):
        function = lambda number=number: number  # noqa: E731
        assert app.ensure_sync(function) is function
    assert len(app._synchronous) == MAX_KEPT
