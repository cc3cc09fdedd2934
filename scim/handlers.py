"""The SCIM operations as plain functions: parsed input in, `ScimResponse` out. They never read
flask.request, so /Bulk runs the same code as the single endpoints.

    handle_create(ctx, rt, body, args={})                     -> 201 + resource
    handle_get(ctx, rt, resource_id, args={}, if_none_match=None)   -> 200 | 304
    handle_list(ctx, rt, params)                             -> 200 ListResponse
    handle_search(ctx, rt_or_None, body)                     -> 200 ListResponse (POST /.search)
    handle_replace(ctx, rt, resource_id, body, args={}, if_match=None)  -> 200 + resource
    handle_patch(ctx, rt, resource_id, body, args={}, if_match=None)    -> 200 + resource
    handle_delete(ctx, rt, resource_id, if_match=None)       -> 204

`args` holds `attributes`/`excludedAttributes` (a request's query string). A PATCH answers 200
with the resource, honouring `attributes`/`excludedAttributes`; the resource type's
`heavy_attributes` (group members) are left out unless `attributes` asks for them.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote

from scim import dialects, etag, listing, projection, validation
from scim.backend import Replacement, ResourceRecord
from scim.errors import InvalidFilter
from scim.patch import Patch
from scim.resources import ResourceType, ScimConfig


@dataclass
class ScimResponse:
    status: int
    document: dict | None = None
    headers: dict = field(default_factory=dict)


@dataclass
class Context:
    """The registered resource types and the protocol configuration of one app."""

    config: ScimConfig
    resource_types: list[ResourceType]

    def by_name(self, name: str) -> ResourceType | None:
        return next((rt for rt in self.resource_types if rt.name == name), None)

    def by_endpoint(self, endpoint: str) -> ResourceType | None:
        return next((rt for rt in self.resource_types if rt.endpoint == endpoint), None)


def handle_create(ctx: Context, rt: ResourceType, body: dict, args=None) -> ScimResponse:
    """RFC 7644 §3.3: 201 Created with the resource and its Location."""
    attributes = validation.load_resource(rt, dialects.normalise_resource(rt, body))
    shown = _projection(rt, args)
    record = rt.backend.create(attributes, projection=shown)
    return _resource_response(ctx, rt, record, shown, status=201)


def handle_get(ctx: Context, rt: ResourceType, resource_id: str, args=None,
               if_none_match: str | None = None) -> ScimResponse:
    """RFC 7644 §3.4.1, with If-None-Match (RFC 7644 §3.14): 304 when unchanged."""
    shown = _projection(rt, args)
    record = rt.backend.get(resource_id, projection=shown)
    if if_none_match is not None and etag.none_match(if_none_match, record.version):
        return ScimResponse(304, None, {"ETag": etag.etag(record.version)})
    return _resource_response(ctx, rt, record, shown)


def handle_list(ctx: Context, rt: ResourceType, params: listing.ListParams) -> ScimResponse:
    """RFC 7644 §3.4.2: a filtered, sorted page; no match is 200 with an empty list."""
    query = listing.build_query(rt, params, ctx.config)
    result = rt.backend.list(query)
    resources = [render(ctx, rt, record, query.projection) for record in result.records]
    return ScimResponse(200, listing.list_response(resources, result.total, params.start_index))


def handle_search(ctx: Context, rt: ResourceType | None, body: dict) -> ScimResponse:
    """RFC 7644 §3.4.3: POST /.search, per resource type or across all of them at the root."""
    params = listing.params_from_search(body, ctx.config)
    if rt is not None:
        return handle_list(ctx, rt, params)
    return _root_search(ctx, params)


def _root_search(ctx: Context, params: listing.ListParams) -> ScimResponse:
    """Root search: the types' results one after another, paged as one list. A type whose
    schema lacks a filter attribute contributes nothing."""
    offset, room, total, resources, errors = params.start_index - 1, params.count, 0, [], []
    for rt in ctx.resource_types:
        try:
            query = listing.build_query(rt, params, ctx.config)
        except InvalidFilter as exc:
            if not getattr(exc, "unknown_name", False):
                raise
            errors.append(exc)
            continue
        result = rt.backend.list(dataclasses.replace(query, offset=offset, limit=room))
        total += result.total
        resources += [render(ctx, rt, record, query.projection) for record in result.records]
        room -= len(result.records)
        offset = max(0, offset - result.total)
    if errors and len(errors) == len(ctx.resource_types):
        raise errors[0]
    return ScimResponse(200, listing.list_response(resources, total, params.start_index))


def handle_replace(ctx: Context, rt: ResourceType, resource_id: str, body: dict, args=None,
                   if_match: str | None = None) -> ScimResponse:
    """RFC 7644 §3.5.1: PUT replaces the resource; readOnly values sent back are ignored."""
    attributes = validation.load_resource(rt, dialects.normalise_resource(rt, body))
    shown = _projection(rt, args)
    expected = expected_version(rt, resource_id, if_match)
    record = rt.backend.replace(resource_id, Replacement(rt, attributes), expected_version=expected, projection=shown)
    return _resource_response(ctx, rt, record, shown)


def handle_patch(ctx: Context, rt: ResourceType, resource_id: str, body: dict, args=None,
                 if_match: str | None = None) -> ScimResponse:
    """RFC 7644 §3.5.2: all operations or none; 200 with the resource (heavy attributes only
    when `attributes` asks for them)."""
    patch = Patch.parse(rt, body)
    shown = _projection(rt, args, default_excluded=rt.heavy_attributes)
    expected = expected_version(rt, resource_id, if_match)
    record = rt.backend.patch(resource_id, patch, expected_version=expected, projection=shown)
    return _resource_response(ctx, rt, record, shown)


def handle_delete(ctx: Context, rt: ResourceType, resource_id: str, if_match: str | None = None) -> ScimResponse:
    """RFC 7644 §3.6: 204 No Content; later requests for the id are 404."""
    rt.backend.delete(resource_id, expected_version=expected_version(rt, resource_id, if_match))
    return ScimResponse(204)


def expected_version(rt: ResourceType, resource_id: str, if_match: str | None) -> str | None:
    """RFC 7644 §3.14 If-Match as the one version the backend must compare-and-set against."""
    versions = etag.parse_header(if_match)
    if versions is None:
        return None
    if len(versions) == 1:
        return versions[0]
    current = rt.backend.get(resource_id, projection=projection.Projection(rt, default_excluded=rt.heavy_attributes))
    etag.check_match(versions, current.version)
    return current.version


def _projection(rt: ResourceType, args, default_excluded=()) -> projection.Projection:
    args = args or {}
    return projection.from_params(rt, args.get("attributes"), args.get("excludedAttributes"),
                                  default_excluded=default_excluded)


def _resource_response(ctx: Context, rt: ResourceType, record: ResourceRecord, shown,
                       status: int = 200) -> ScimResponse:
    """RFC 7644 §3.3, §3.4.1: the resource with its ETag and Location headers."""
    document = render(ctx, rt, record, shown)
    return ScimResponse(status, document, {"ETag": etag.etag(record.version), "Location": location(ctx, rt, record.id)})


def render(ctx: Context, rt: ResourceType, record: ResourceRecord, shown: projection.Projection) -> dict:
    """The resource document: schemas, id, externalId, attributes, meta; then the projection."""
    attributes = record.attributes
    extensions = [ext for ext in rt.extension_ids if attributes.get(ext)]
    document = {"schemas": [rt.schema.id, *extensions], "id": record.id}
    if "externalId" in attributes:
        document["externalId"] = attributes["externalId"]
    document.update(attributes)  # externalId keeps its place, after id
    document["meta"] = {
        "resourceType": rt.name,
        "created": timestamp(record.created),
        "lastModified": timestamp(record.last_modified),
        "location": location(ctx, rt, record.id),
        "version": etag.etag(record.version),
    }
    projected = shown.apply(document)
    # RFC 7643 §3: "schemas" names the schemas whose attributes are present.
    projected["schemas"] = [urn for urn in document["schemas"] if urn == rt.schema.id or urn in projected]
    return projected


def location(ctx: Context, rt: ResourceType, resource_id: str) -> str:
    path_segment = resource_id if _UNRESERVED.fullmatch(resource_id) else quote(resource_id, safe="")
    return f"{ctx.config.base_url}{rt.endpoint}/{path_segment}"


_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*")  # what quote() leaves as it is (RFC 3986 §2.3)


def timestamp(moment: datetime) -> str:
    """RFC 7643 §2.3.5 dateTime in UTC with a Z (naive datetimes are UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat() + "Z"
