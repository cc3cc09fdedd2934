"""A statement PostgreSQL cancelled for running past server.statement_timeout_seconds (set on
every pooled connection by connector.db) answers 503 with the request id, as a SCIM error
under /scim/v2 and as the small JSON error elsewhere, well before the IdP's 60 s timeout and
gunicorn's server.timeout_seconds. Other database errors keep the app's 500 answer."""
from __future__ import annotations

import logging

from flask import Flask, g
from peewee import OperationalError
from werkzeug.exceptions import ServiceUnavailable

from connector.db import is_statement_timeout
from connector.http_errors import is_scim_path, render_error
from scim.blueprint import error_response
from scim.errors import ServiceUnavailable as ScimServiceUnavailable

DETAIL = "The database did not answer in time; try again later."

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Call after http_errors.init_app: other database errors go to the app's handler of
    Exception as it is then (a SCIM 500 under /scim/v2, the JSON 500 elsewhere)."""
    unexpected = app.error_handler_spec[None][None][Exception]

    @app.errorhandler(OperationalError)
    def database_error(error: OperationalError):
        if not is_statement_timeout(error):
            return unexpected(error)
        request_id = g.get("request_id") or "-"
        log.warning("a statement ran past the statement timeout (request id %s)", request_id)
        if is_scim_path():
            return error_response(ScimServiceUnavailable(DETAIL, request_id))
        return render_error(ServiceUnavailable(DETAIL))
