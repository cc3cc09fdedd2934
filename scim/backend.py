"""The interface between the protocol and storage: one ResourceBackend per resource type.

A backend never sees a Flask request, raw JSON or a filter string. It receives validated,
canonical data and returns `ResourceRecord`s; it raises scim.errors exceptions (NotFound,
Uniqueness, InvalidValue, PreconditionFailed, ...) for refusals.

Canonical attribute dicts: core and common attributes at the top level under their canonical
names (`userName`, `name`: {"givenName": ...}, `emails`: [{...}], `externalId`), extension
attributes under the extension's URN (`{"urn:...:enterprise:2.0:User": {"manager": {"value":
"..."}}}`); never `id`, `meta` or `schemas` (the protocol adds them from the record).
Records should hold every attribute the backend stores, including readOnly ones (`groups`,
`members[].display`, `$ref`); the protocol applies `returned` and the request's projection.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from scim.patch import Patch
from scim.projection import Projection
from scim.resources import ResourceType
from scim.validation import check_immutable


@dataclass
class ResourceRecord:
    """One stored resource: its id, version (for ETags), timestamps (naive UTC) and
    attributes in canonical SCIM shape."""

    id: str
    version: str
    created: datetime
    last_modified: datetime
    attributes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ListQuery:
    """A list request, compiled: `where` is a peewee expression (or None for "all") to AND with
    the backend's own scope; `order_by` peewee orderings ending with a unique tie-breaker;
    `offset`/`limit` rows (limit 0: only count); `projection` what the response will show."""

    where: Any
    order_by: tuple
    offset: int
    limit: int
    projection: Projection

    def page(self, scope, *, key=None, rows_by_key=None, total=None, page_keys=None) -> tuple[int, list]:
        """(total, this page's rows) of `scope`, a peewee SELECT of the tenant's rows: the
        filter ANDed to it, sorted and sliced, and counted (RFC 7644 §3.4.2).

        A page that is not full and not past the end tells the total itself: no COUNT then.
        `key` (the primary key of a `scope` that selects its model's columns) picks the page by
        key first, then reads only those rows by key: with an index that holds the order and the
        key, the rows skipped by the offset are never read. `rows_by_key(keys)` reads them (in
        any order); by default a SELECT of the model's columns, which peewee builds anew each
        time, so a backend with a prepared statement for it passes its own. `total()`, when the
        backend keeps the number of rows in `scope`, stands for counting them when there is no
        filter; `page_keys(offset, limit)`, when the backend has its own statement for the keys
        of an unfiltered page in this order, reads them instead of a SELECT built anew."""
        rows = scope if self.where is None else scope.where(self.where)
        page_keys = page_keys if self.where is None else None
        matched, page = self._slice(rows, key, rows_by_key, page_keys) if self.limit else (0, [])
        if 0 < matched < self.limit or (not matched and not self.offset and self.limit):
            return self.offset + matched, page
        return total() if total is not None and self.where is None else rows.count(), page

    def _slice(self, rows, key, rows_by_key, page_keys=None) -> tuple[int, list]:
        """(rows the slice matched, the page's rows); a row deleted between reading the keys
        and reading the rows is left out of the page, not out of the count."""
        if key is None:
            page = list(rows.order_by(*self.order_by).offset(self.offset).limit(self.limit))
            return len(page), page
        if page_keys is not None:
            keys = page_keys(self.offset, self.limit)
        else:
            keys = [found for (found,) in
                    rows.select(key).order_by(*self.order_by).offset(self.offset).limit(self.limit).tuples()]
        if not keys:
            return 0, []
        found = rows_by_key(keys) if rows_by_key else key.model.select().where(key.in_(keys))
        by_key = {getattr(row, key.name): row for row in found}
        return len(keys), [by_key[k] for k in keys if k in by_key]


@dataclass
class ListResult:
    total: int
    records: list


@dataclass(frozen=True)
class Replacement:
    """A PUT's new attributes (RFC 7644 §3.5.1). Call `resolve(current_attributes)` inside the
    write transaction: it enforces immutability against the stored values and returns the
    attribute dict to store (`current_attributes` needs only the immutable attributes, so a
    group's members need not be loaded). readOnly attributes are not in it (keep the stored
    ones); writeOnly attributes (password) absent from it should be left as they are; every
    other attribute absent from it is cleared (PUT replaces the resource)."""

    resource_type: ResourceType
    attributes: dict

    def resolve(self, current: dict) -> dict:
        check_immutable(self.resource_type, current, self.attributes)
        return self.attributes


class ResourceBackend(Protocol):
    """Implemented by the app for each resource type (connector/scim_users.py, scim_groups.py).

    `expected_version` is the version from If-Match (None when absent or `*`): compare and set
    atomically (UPDATE ... WHERE version = expected) and raise PreconditionFailed when it no
    longer matches. `projection.wants(name)` says whether an attribute must be loaded for the
    response."""

    def create(self, attributes: dict, *, projection: Projection) -> ResourceRecord:
        """Store a new resource (RFC 7644 §3.3); Uniqueness on a duplicate."""

    def get(self, resource_id: str, *, projection: Projection) -> ResourceRecord:
        """One resource (RFC 7644 §3.4.1); NotFound when there is none with this id."""

    def list(self, query: ListQuery) -> ListResult:
        """Matching resources (RFC 7644 §3.4.2): total count and one page, with no query per row."""

    def replace(self, resource_id: str, replacement: Replacement, *, expected_version: str | None,
                projection: Projection) -> ResourceRecord:
        """PUT (RFC 7644 §3.5.1) in one transaction: load, `replacement.resolve(current)`, store."""

    def patch(self, resource_id: str, patch: Patch, *, expected_version: str | None,
              projection: Projection) -> ResourceRecord:
        """PATCH (RFC 7644 §3.5.2) in one transaction: load, `patch.apply(current)` (or
        `patch.split("members")` for incremental membership), store."""

    def delete(self, resource_id: str, *, expected_version: str | None) -> None:
        """DELETE (RFC 7644 §3.6); NotFound when there is none with this id."""
