"""Resource types (RFC 7643 §6) as the app registers them, and the protocol's configuration.

    from scim import ResourceType, Extension, ScimConfig, init_app
    from scim.core_schemas import USER, ENTERPRISE_USER
    from scim.filter import Column, Child

    users = ResourceType(
        name="User", endpoint="/Users", schema=USER,
        extensions=(Extension(ENTERPRISE_USER), Extension(ALLY_USER)),
        backend=UserBackend(),                      # implements scim.backend.ResourceBackend
        filter_map={"id": Column(User.scim_id), "userName": Column(User.user_name_key, lowered=True), ...},
        default_order=(User.id,),                    # stable tie-breaker for paging
        heavy_attributes=(),                         # e.g. ("members",) for groups
    )
    init_app(app, resource_types=[users, groups], config=ScimConfig(base_url=public_url + "/scim/v2"))

`filter_map` is data: see scim.filter for its format. `heavy_attributes` names multi-valued
attributes that PATCH responses leave out unless the request's `attributes` asks for them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from werkzeug.urls import iri_to_uri

from scim.schemas import COMMON_ATTRIBUTES, Attribute, Schema


@dataclass(frozen=True)
class ScimConfig:
    """What the protocol needs from the app's configuration."""

    base_url: str                      # public URL of /scim/v2, used in meta.location and $ref
    max_results: int = 1000            # largest page; ServiceProviderConfig filter.maxResults
    default_count: int = 100           # page size when no count is given
    max_filter_length: int = 4096      # longer filters are 400 invalidFilter
    bulk_max_operations: int = 1000    # ServiceProviderConfig bulk.maxOperations
    bulk_max_payload_bytes: int = 1_048_576
    documentation_uri: str | None = None

    def __post_init__(self):
        # As a URI (an IDN host in punycode, other characters percent-encoded), so that every
        # Location header built on it is one already (scim.blueprint.ScimFlaskResponse).
        object.__setattr__(self, "base_url", iri_to_uri(self.base_url))


@dataclass(frozen=True)
class Extension:
    """A schema extension of a resource type (RFC 7643 §6 schemaExtensions)."""

    schema: Schema
    required: bool = False


@dataclass(eq=False)
class ResourceType:
    """One registered resource type: its schemas, its backend and its filter map."""

    name: str
    endpoint: str
    schema: Schema
    backend: Any
    filter_map: dict = field(default_factory=dict)
    extensions: tuple[Extension, ...] = ()
    description: str = ""
    default_order: tuple = ()
    heavy_attributes: tuple[str, ...] = ()
    _schemas: dict = field(default_factory=dict, init=False, repr=False)
    compiled: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        if not self.endpoint.startswith("/"):
            raise ValueError(f"resource type {self.name}: endpoint must start with '/'")
        for schema in self.all_schemas:
            self._schemas[schema.id.lower()] = schema

    @property
    def id(self) -> str:
        return self.name

    @property
    def all_schemas(self) -> tuple[Schema, ...]:
        return (self.schema, *(ext.schema for ext in self.extensions))

    @property
    def extension_ids(self) -> tuple[str, ...]:
        return tuple(ext.schema.id for ext in self.extensions)

    def schema_by_urn(self, urn: str) -> Schema | None:
        """The core or extension schema with this URN (any case), or None."""
        return self._schemas.get(urn.lower())

    def top_level(self, name: str) -> tuple[Schema | None, Attribute] | None:
        """A core or common attribute named without a URN prefix (RFC 7644 §3.10)."""
        known = self.compiled.setdefault("top_level", {})  # only names that exist: a request's typos are not kept
        key = name.lower()
        found = known.get(key)
        if found is None:
            found = self._top_level(name)
            if found is not None:
                known[key] = found
        return found

    def _top_level(self, name: str) -> tuple[Schema | None, Attribute] | None:
        for common in COMMON_ATTRIBUTES:
            if common.name.lower() == name.lower():
                return None, common
        attribute = self.schema.attribute(name)
        return (self.schema, attribute) if attribute else None

    def to_dict(self, base_url: str) -> dict:
        """The RFC 7643 §6 ResourceType representation."""
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.id,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description or self.name,
            "schema": self.schema.id,
            "schemaExtensions": [{"schema": ext.schema.id, "required": ext.required} for ext in self.extensions],
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/{self.id}"},
        }
