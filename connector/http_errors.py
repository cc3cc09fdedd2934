"""Small JSON errors for every route outside /scim/v2 (/healthz, /metrics, unknown URLs), so no
route ever answers an HTML page or a traceback.

/scim/v2 belongs to the SCIM package, which renders its own error documents (RFC 7644 §3.12).
Flask asks exactly one handler per error, and an app-level handler registered for a status
code wins over one registered for a class on every path, so `init_app` runs last in the
factory: it wraps each app-level handler of generic errors (HTTP errors, Exception) registered
before it so that the handler answers for /scim/v2 paths and this module for all others.
Handlers of a package's own exception classes (a SCIM or OAuth error) are left as they are:
only that package raises them, wherever it is mounted.
"""
from __future__ import annotations

import functools
import logging

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

SCIM_PREFIX = "/scim/v2"
SERVER_ERROR_DETAIL = "The server met an unexpected condition. Quote the request id when you report it."

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Call after every package that registers app-level error handlers (see module doc)."""
    app_handlers = app.error_handler_spec[None]
    for handlers in app_handlers.values():
        for exc_class, handler in list(handlers.items()):
            if is_generic(exc_class):
                handlers[exc_class] = _scim_paths_to(handler)
    if HTTPException not in app_handlers[None]:
        app.register_error_handler(HTTPException, render_error)


def is_generic(exc_class: type) -> bool:
    """Errors any route can meet (routing 404/405, 413, unexpected exceptions)."""
    return issubclass(exc_class, HTTPException) or exc_class in (Exception, BaseException)


def is_scim_path() -> bool:
    return request.path == SCIM_PREFIX or request.path.startswith(SCIM_PREFIX + "/")


def render_error(error: Exception):
    """{"status", "error", "detail", "request_id"}; 5xx get a fixed detail, never the cause."""
    if not isinstance(error, HTTPException):
        log.error("unhandled %s", type(error).__name__, exc_info=error)
        error = InternalServerError(original_exception=error)
    server_side = error.code >= 500
    response = jsonify(status=error.code, error=error.name,
                       detail=SERVER_ERROR_DETAIL if server_side else error.description,
                       request_id=g.get("request_id"))
    response.status_code = error.code
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _scim_paths_to(handler):
    """`handler` for requests under /scim/v2, render_error for every other path."""
    if getattr(handler, "_scim_paths_only", False):
        return handler

    @functools.wraps(handler)
    def dispatch(error):
        return handler(error) if is_scim_path() else render_error(error)

    dispatch._scim_paths_only = True
    return dispatch
