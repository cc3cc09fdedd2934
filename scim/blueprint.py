"""Thin Flask views: parse the request, call a scim.handlers function, render the response.

Routes under the prefix (default /scim/v2): for each registered resource type
`<endpoint>` (GET list, POST create), `<endpoint>/<id>` (GET, PUT, PATCH, DELETE),
`<endpoint>/.search` (POST); `/.search` (POST, all types); `/Bulk` (POST);
`/ServiceProviderConfig`, `/ResourceTypes[/<id>]`, `/Schemas[/<id>]` (GET).
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, request
from werkzeug.datastructures import Headers

from scim import bulk, discovery, handlers, limits, listing
from scim.errors import Forbidden, ScimError, render
from scim.media import SCIM_JSON, read_json_body

RESOURCE_METHODS = ["GET", "PUT", "PATCH", "DELETE"]


def make_blueprint(ctx: handlers.Context, prefix: str, before_request=None) -> Blueprint:
    bp = Blueprint("scim", __name__, url_prefix=prefix)
    bp.before_request(_check_url)
    if before_request is not None:
        bp.before_request(before_request)
    for rt in ctx.resource_types:
        _add_resource_routes(bp, ctx, rt)
    bp.add_url_rule("/.search", "root_search", lambda: _root_search(ctx), methods=["POST"])
    bp.add_url_rule("/Bulk", "bulk", lambda: _bulk(ctx), methods=["POST"])
    _add_discovery_routes(bp, ctx)
    return bp


def _check_url() -> None:
    """The path and query parameters carry no text a database cannot store (scim.limits)."""
    limits.check_text(request.path, "The request path")
    for name, value in request.args.items(multi=True):
        limits.check_text(name, "A query parameter name")
        limits.check_text(value, f"The query parameter {name!r}")


def _root_search(ctx: handlers.Context) -> Response:
    return respond(handlers.handle_search(ctx, None, read_json_body(request)))


def _bulk(ctx: handlers.Context) -> Response:
    bulk.check_payload_size(request.content_length, ctx)
    return respond(bulk.handle_bulk(ctx, read_json_body(request)))


def _add_resource_routes(bp: Blueprint, ctx: handlers.Context, rt) -> None:
    def collection():
        if request.method == "POST":
            return respond(handlers.handle_create(ctx, rt, read_json_body(request), request.args))
        return respond(handlers.handle_list(ctx, rt, listing.params_from_query(request.args, ctx.config)))

    def resource(resource_id: str):
        method = request.method
        if method == "GET":
            if_none_match = request.headers.get("If-None-Match")
            return respond(handlers.handle_get(ctx, rt, resource_id, request.args, if_none_match))
        if method == "DELETE":
            return respond(handlers.handle_delete(ctx, rt, resource_id, request.headers.get("If-Match")))
        body = read_json_body(request)
        handle = handlers.handle_replace if method == "PUT" else handlers.handle_patch
        return respond(handle(ctx, rt, resource_id, body, request.args, request.headers.get("If-Match")))

    def search():
        return respond(handlers.handle_search(ctx, rt, read_json_body(request)))

    bp.add_url_rule(rt.endpoint, f"{rt.name}_collection", collection, methods=["GET", "POST"])
    bp.add_url_rule(f"{rt.endpoint}/.search", f"{rt.name}_search", search, methods=["POST"])
    bp.add_url_rule(f"{rt.endpoint}/<resource_id>", f"{rt.name}_resource", resource, methods=RESOURCE_METHODS)


def _add_discovery_routes(bp: Blueprint, ctx: handlers.Context) -> None:
    config, types = ctx.config, ctx.resource_types

    def one(document):
        return respond(handlers.ScimResponse(200, document))

    def listed(documents):
        return one(listing.list_response(documents, len(documents), 1))

    routes = {
        "/ServiceProviderConfig": lambda: one(discovery.service_provider_config(config)),
        "/ResourceTypes": lambda: listed(discovery.resource_types(types, config)),
        "/ResourceTypes/<type_id>": lambda type_id: one(discovery.resource_type(types, type_id, config)),
        "/Schemas": lambda: listed(discovery.schemas(types, config)),
        "/Schemas/<path:schema_id>": lambda schema_id: one(discovery.schema(types, schema_id, config)),
    }
    for rule, view in routes.items():
        bp.add_url_rule(rule, "discovery" + rule.replace("/", "_"), _no_filter(view))


def _no_filter(view):
    """RFC 7644 §4: a filter on a discovery endpoint is answered with 403."""

    def wrapped(**kwargs):
        if "filter" in request.args:
            raise Forbidden("Filtering is not supported on discovery endpoints (RFC 7644 §4).")
        return view(**kwargs)

    return wrapped


class ScimFlaskResponse(Response):
    """A Flask response whose Location header is already a URI: handlers.location builds it on
    the base URL, which ScimConfig keeps as a URI, and a percent-encoded id. werkzeug would
    convert it from an IRI again for every response (a URL split, IDNA and three quotings, about
    4% of a get by id's CPU), which leaves a URI as it is; so it is left out of that step."""

    def get_wsgi_headers(self, environ) -> Headers:
        location = self.headers.pop("Location", None)
        if location is None:
            return super().get_wsgi_headers(environ)
        try:
            headers = super().get_wsgi_headers(environ)
        finally:
            self.headers["Location"] = location
        headers["Location"] = location
        return headers


def respond(response: handlers.ScimResponse) -> Response:
    """A ScimResponse as a Flask response with the SCIM media type."""
    body = None if response.document is None else json_bytes(response.document)
    flask_response = ScimFlaskResponse(body, status=response.status, mimetype=SCIM_JSON)
    if body is None:
        del flask_response.headers["Content-Type"]  # 204 and 304 carry no body
    for name, value in response.headers.items():
        flask_response.headers[name] = value
    return flask_response


def json_bytes(document) -> bytes:
    """UTF-8 JSON; a lone surrogate echoed from the request (say, in an error's detail) has no
    UTF-8 form, so then every non-ASCII character is escaped (\\ud800) instead."""
    try:
        return json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(document).encode("ascii")


def error_response(error: ScimError) -> Response:
    status, document, headers = render(error)
    return respond(handlers.ScimResponse(status, document, headers))
