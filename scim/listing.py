"""Paging, sorting and ListResponse (RFC 7644 §3.4.2.3, §3.4.2.4, §3.4.3): the one way to
paginate. Parameters come from the query string (GET) or a SearchRequest body (POST /.search).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from peewee import fn

from scim import filter_map, paths, projection
from scim.backend import ListQuery
from scim.errors import InvalidSyntax, InvalidValue
from scim.filter import TEXT_TYPES, compile_filter
from scim.resources import ResourceType, ScimConfig

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
_SEARCH_KEYS = {
    "filter": "filter", "startindex": "startIndex", "count": "count", "sortby": "sortBy",
    "sortorder": "sortOrder", "attributes": "attributes", "excludedattributes": "excludedAttributes",
}


@dataclass(frozen=True)
class ListParams:
    filter: str | None = None
    start_index: int = 1
    count: int = 100
    sort_by: str | None = None
    descending: bool = False
    attributes: str | None = None
    excluded: str | None = None


def params_from_query(args, config: ScimConfig) -> ListParams:
    """RFC 7644 §3.4.2: list parameters from a query string (names as the RFC spells them)."""
    return _params({key: args.get(key) for key in _SEARCH_KEYS.values() if args.get(key) is not None}, config)


def params_from_search(body: dict, config: ScimConfig) -> ListParams:
    """RFC 7644 §3.4.3: list parameters from a SearchRequest body."""
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or SEARCH_REQUEST.lower() not in {str(s).lower() for s in schemas}:
        raise InvalidSyntax(f"A search body must have \"schemas\": [\"{SEARCH_REQUEST}\"].")
    values = {}
    for key, value in body.items():
        name = _SEARCH_KEYS.get(key.lower())
        if name in ("attributes", "excludedAttributes") and isinstance(value, list):
            value = ",".join(str(v) for v in value)
        if name is not None and value is not None:
            values[name] = value
    for name in ("filter", "sortBy", "sortOrder", "attributes", "excludedAttributes"):
        if name in values and not isinstance(values[name], str):
            raise InvalidValue(f"'{name}' must be a string.")
    return _params(values, config)


def _params(values: dict, config: ScimConfig) -> ListParams:
    start = _integer(values, "startIndex", 1)
    count = _integer(values, "count", config.default_count)
    order = str(values.get("sortOrder", "ascending")).lower()
    if order not in ("ascending", "descending"):
        raise InvalidValue(f"'sortOrder' must be 'ascending' or 'descending', not {values['sortOrder']!r}.")
    return ListParams(
        filter=values.get("filter"),
        start_index=max(start, 1),                      # RFC 7644 §3.4.2.4: values < 1 are 1
        count=min(max(count, 0), config.max_results),   # negative is 0; capped at maxResults
        sort_by=values.get("sortBy") or None,
        descending=order == "descending",
        attributes=values.get("attributes"),
        excluded=values.get("excludedAttributes"),
    )


def _integer(values: dict, name: str, default: int) -> int:
    """A whole number; one beyond +-_LARGEST is taken as +-_LARGEST: a startIndex past every
    row is an empty page and a count over maxResults is maxResults either way, and the
    database is never handed an offset it cannot hold."""
    raw = values.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise InvalidValue(f"'{name}' must be an integer, not {raw!r}.")
    if isinstance(raw, str) and re.fullmatch(r"\s*[-+]?[0-9]+\s*", raw):
        digits = raw.strip()
        raw = int(digits) if len(digits) <= 19 else (-_LARGEST if digits.startswith("-") else _LARGEST)
    if isinstance(raw, int):
        return max(-_LARGEST, min(raw, _LARGEST))
    raise InvalidValue(f"'{name}' must be an integer, not {raw!r}.")


_LARGEST = 10 ** 18


def build_query(rt: ResourceType, params: ListParams, config: ScimConfig) -> ListQuery:
    """The backend's ListQuery: compiled filter, stable order, offset/limit, projection."""
    where = compile_filter(rt, params.filter, config.max_filter_length) if params.filter else None
    order = (_sort_order(rt, params.sort_by, params.descending),) if params.sort_by else ()
    return ListQuery(
        where=where,
        order_by=order + tie_breaker(rt),
        offset=params.start_index - 1,
        limit=params.count,
        projection=projection.from_params(rt, params.attributes, params.excluded),
    )


def _sort_order(rt: ResourceType, sort_by: str, descending: bool):
    """RFC 7644 §3.4.2.3 sortBy over a single-valued attribute mapped in the filter map."""
    path = paths.parse(sort_by, rt, error=InvalidValue, allow_filter=False)
    if path.attribute.multi_valued:
        raise InvalidValue(f"Sorting by the multi-valued attribute '{path.key}' is not supported.")
    if path.attribute.is_complex and path.sub_attribute is None:
        path = path.with_sub(path.attribute.sub("value"))
    entry = filter_map.lookup(rt, path) if path.target else None
    if entry is None or entry.column is None:
        raise InvalidValue(f"Sorting by '{sort_by}' is not supported.")
    expr = entry.column.expr
    if path.target.type in TEXT_TYPES and not path.target.case_exact and not entry.column.lowered:
        expr = fn.LOWER(expr)
    return expr.desc(nulls="LAST") if descending else expr.asc(nulls="LAST")


def tie_breaker(rt: ResourceType) -> tuple:
    """A unique final ordering so pages never repeat or skip rows (Okta pages with startIndex)."""
    if rt.default_order:
        return tuple(rt.default_order)
    entry = filter_map.compiled(rt).get("id")
    if entry is None or entry.column is None:
        raise ValueError(f"resource type {rt.name}: give default_order or map 'id' in the filter map")
    return (entry.column.expr.asc(),)


def list_response(resources: list[dict], total: int, start_index: int) -> dict:
    """RFC 7644 §3.4.2: totalResults, itemsPerPage and startIndex as JSON integers."""
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": int(total),
        "itemsPerPage": len(resources),
        "startIndex": int(start_index),
        "Resources": resources,
    }
