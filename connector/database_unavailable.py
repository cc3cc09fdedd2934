"""Database errors that say "try again", answered 503 with the request id (a SCIM error under
/scim/v2, the small JSON error elsewhere), so an IdP retries instead of reporting a failure:

- a statement PostgreSQL cancelled for running past server.statement_timeout_seconds (set on
  every pooled connection by connector.db), well before the IdP's 60 s timeout and gunicorn's
  server.timeout_seconds;
- a connection that went away under the request (a PostgreSQL restart or failover, a
  terminated backend, a dropped network; connector.pg_pool hands out a connection used a
  moment ago without asking the server first). The connection is not used again;
- no connection could be made (PostgreSQL down, restarting, or unreachable), as /readyz reports
  it.

Other database errors keep the app's 500 answer."""
from __future__ import annotations

import logging

from flask import Flask, g
from peewee import InterfaceError, OperationalError
from werkzeug.exceptions import ServiceUnavailable

from connector.db import is_connection_lost, is_statement_timeout, is_unreachable
from connector.http_errors import is_scim_path, render_error
from scim.blueprint import error_response
from scim.errors import ServiceUnavailable as ScimServiceUnavailable

TIMED_OUT = "The database did not answer in time; try again later."
LOST = "The connection to the database was lost; try again."
UNREACHABLE = "The database cannot be reached; try again later."

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Call after http_errors.init_app: other database errors go to the app's handler of
    Exception as it is then (a SCIM 500 under /scim/v2, the JSON 500 elsewhere)."""
    unexpected = app.error_handler_spec[None][None][Exception]

    def database_error(error: Exception):
        if is_statement_timeout(error):
            detail, what = TIMED_OUT, "a statement ran past the statement timeout"
        elif is_connection_lost(error):
            detail, what = LOST, f"the database connection was lost ({error})"
        elif is_unreachable(error):
            detail, what = UNREACHABLE, f"no connection to the database could be made ({error})"
        else:
            return unexpected(error)
        request_id = g.get("request_id") or "-"
        log.warning("%s (request id %s)", what, request_id)
        if is_scim_path():
            return error_response(ScimServiceUnavailable(detail, request_id))
        return render_error(ServiceUnavailable(detail))

    app.register_error_handler(OperationalError, database_error)
    app.register_error_handler(InterfaceError, database_error)
