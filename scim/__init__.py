"""SCIM 2.0 (RFC 7643/7644) protocol: schemas, filters, PATCH, listing, errors and the Flask blueprint.
Knows nothing about Ally; it calls one backend per resource type (scim.backend.ResourceBackend).

    init_app(app, resource_types=[users, groups], config=ScimConfig(base_url=public_url + "/scim/v2"),
             before_request=authenticate)   # optional hook run before every SCIM view

Every response under the prefix is SCIM: resources as application/scim+json, errors as SCIM
error documents, including unknown routes (404), wrong methods (405), oversized bodies (413)
and unexpected failures (500 with a fixed detail and a request id; the cause is logged).
Call it before connector.http_errors.init_app, which then keeps the app-level 404/405/413
handlers registered here for /scim/v2 paths only.

Implementing a resource type (tests/scim/testapp.py and testgroups.py are complete examples):
- scim.resources.ResourceType(name, endpoint, schema, backend, filter_map, extensions,
  default_order, heavy_attributes): schemas from scim.core_schemas or your own
  scim.schemas.Schema/Attribute; filter_map as data (scim.filter_map: Column, Child).
- backend: scim.backend.ResourceBackend (create/get/list/replace/patch/delete). It gets
  canonical attribute dicts, a ListQuery (`query.page(tenant_select)` ANDs its filter), a
  Replacement (`resolve(current)`) or a Patch (`apply(current)`, or `split("members")` for
  id sets, see scim.patch_members), `expected_version` for compare-and-set, and a Projection
  (`wants(name)`); it returns ResourceRecords and raises scim.errors exceptions.
- /Bulk and any other caller reuse scim.handlers.handle_* with `context(app)`.
"""
from __future__ import annotations

import logging
import uuid

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

from scim import filter_map, listing
from scim.blueprint import error_response, make_blueprint
from scim.errors import InternalError, MethodNotAllowed, NotFound, PayloadTooLarge, ScimError
from scim.handlers import Context
from scim.resources import Extension, ResourceType, ScimConfig

__all__ = ["init_app", "Context", "Extension", "ResourceType", "ScimConfig", "context"]
log = logging.getLogger(__name__)
DEFAULT_PREFIX = "/scim/v2"


def init_app(app: Flask, *, resource_types: list[ResourceType], config: ScimConfig,
             prefix: str = DEFAULT_PREFIX, before_request=None) -> Context:
    """Register the SCIM blueprint and the SCIM error handling for `prefix` on `app`."""
    for rt in resource_types:
        filter_map.compiled(rt)        # a wrong filter map fails here, at start
        listing.tie_breaker(rt)
    ctx = Context(config, list(resource_types))
    app.extensions["scim"] = ctx
    blueprint = make_blueprint(ctx, prefix, before_request)
    blueprint.register_error_handler(ScimError, error_response)
    _register_app_handlers(app, prefix)
    app.register_blueprint(blueprint)
    return ctx


def context(app: Flask) -> Context:
    """The registered SCIM context of an app (resource types and config)."""
    return app.extensions["scim"]


def _register_app_handlers(app: Flask, prefix: str) -> None:
    """App-level handlers, answering only under the prefix: routing failures (404/405) never
    reach blueprint handlers, and an app-level handler of a specific exception class (oauth's
    Refusal) must keep winning over the generic 500 here, which a blueprint handler of
    Exception would not allow. Other paths keep the app's or Flask's own answers."""

    def under_prefix() -> bool:
        return request.path == prefix or request.path.startswith(prefix + "/")

    def http_error(error: HTTPException):
        return _http_error(error) if under_prefix() else error

    def unexpected(error: Exception):
        if not under_prefix():
            raise error
        return _unexpected(error)

    for code in (404, 405, 413):
        app.register_error_handler(code, http_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)


def _http_error(error: HTTPException):
    if error.code == 404:
        return error_response(NotFound(f"No SCIM endpoint or resource at {request.path}."))
    if error.code == 405:
        allowed = ", ".join(sorted(error.valid_methods or ()))
        scim_error = MethodNotAllowed(f"{request.method} is not supported on {request.path}.",
                                      headers={"Allow": allowed} if allowed else None)
        return error_response(scim_error)
    if error.code == 413:
        return error_response(PayloadTooLarge(f"The request body is larger than {request.max_content_length} bytes."))
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    scim_error = ScimError(error.description or "The request was not valid.", headers=headers)
    scim_error.status = error.code or 400
    return error_response(scim_error)


def _unexpected(error: Exception):
    """RFC 7644 §3.12 500: fixed detail plus request id to the client, the cause to the log."""
    request_id = getattr(g, "request_id", None) or uuid.uuid4().hex
    log.error("unexpected error in %s %s (request id %s)", request.method, request.path, request_id, exc_info=error)
    return error_response(InternalError(request_id))
