"""Request ids and the one log line per request.

Every request gets an id: the caller's X-Request-Id when it is a sane token (so an IdP's or a
proxy's id follows the request through), else a fresh one. It lives in `flask.g.request_id`
for everything that reports on the request (SCIM 500 documents, audit events, log lines) and
goes back in the X-Request-Id response header.

The request line names the route by its URL rule (`/scim/v2/Users/<id>`), never the raw path
or query string, which may carry ids, filters with email addresses, or tokens.
"""
from __future__ import annotations

import logging
import random
import re
import time

from flask import Flask, Response, g, request

HEADER = "X-Request-Id"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
UNMATCHED_ROUTE = "<unmatched>"

log = logging.getLogger("connector.request")


def init_app(app: Flask) -> None:
    """Register first in the factory, so the id exists before anything else can fail."""
    app.before_request(_start)
    app.after_request(_finish)


def request_id_from(header_value: str | None) -> str:
    """The caller's id when it is 1-64 characters of [A-Za-z0-9._-], else 32 new random hex digits.

    An id only has to be unique, not unguessable, so it comes from `random` rather than
    uuid4's os.urandom (a system call on every request). `random` seeds itself afresh from the
    system in every forked process (gunicorn's workers), so workers do not repeat each other."""
    if header_value and _SANE_ID.fullmatch(header_value):
        return header_value
    return f"{random.getrandbits(128):032x}"


def route_of_request() -> str:
    """The URL rule the request matched, or a fixed marker when it matched none."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED_ROUTE


def elapsed_seconds() -> float:
    """Time since the request started (0 when the request-id hook did not run)."""
    started = g.get("request_started")
    return time.perf_counter() - started if started is not None else 0.0


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id = request_id_from(request.headers.get(HEADER))


def _finish(response: Response) -> Response:
    if "request_id" not in g:  # a before_request hook registered ahead of ours failed
        _start()
    response.headers[HEADER] = g.request_id
    log.info("%s %s %s", request.method, route_of_request(), response.status_code,
             extra={"fields": _fields(response)})
    return response


def _fields(response: Response) -> dict:
    organisation = g.get("organisation")
    return {
        "organisation": getattr(organisation, "slug", None),
        "client": g.get("credential_name"),
        "method": request.method,
        "route": route_of_request(),
        "status": response.status_code,
        "duration_ms": round(elapsed_seconds() * 1000, 2),
    }
