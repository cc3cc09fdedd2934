"""Discovery (RFC 7644 §4, RFC 7643 §5-7): /ServiceProviderConfig, /ResourceTypes and
/Schemas, each built from the registered resource types and the one attribute table.
The app authenticates these endpoints like any other.
"""
from __future__ import annotations

from scim.errors import NotFound
from scim.resources import ResourceType, ScimConfig
from scim.schemas import Schema

SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"


def service_provider_config(config: ScimConfig) -> dict:
    """RFC 7643 §5: what this service provider supports, truthfully."""
    document = {
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": True},
        "bulk": {"supported": True, "maxOperations": config.bulk_max_operations,
                 "maxPayloadSize": config.bulk_max_payload_bytes},
        "filter": {"supported": True, "maxResults": config.max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with an OAuth 2.0 bearer token (RFC 6750): a long-lived "
                           "token from the admin, or one from the token endpoint.",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "primary": True,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{config.base_url}/ServiceProviderConfig"},
    }
    if config.documentation_uri:
        document["documentationUri"] = config.documentation_uri
    return document


def resource_types(types: list[ResourceType], config: ScimConfig) -> list[dict]:
    """RFC 7643 §6: one document per registered resource type."""
    return [rt.to_dict(config.base_url) for rt in types]


def resource_type(types: list[ResourceType], type_id: str, config: ScimConfig) -> dict:
    for rt in types:
        if rt.id == type_id:
            return rt.to_dict(config.base_url)
    raise NotFound(f"No resource type '{type_id}'.")


def all_schemas(types: list[ResourceType]) -> list[Schema]:
    """Every schema used by a registered resource type, each once, in registration order."""
    seen = {}
    for rt in types:
        for schema in rt.all_schemas:
            seen.setdefault(schema.id, schema)
    return list(seen.values())


def schemas(types: list[ResourceType], config: ScimConfig) -> list[dict]:
    """RFC 7643 §7: the schema documents."""
    return [_schema_document(schema, config) for schema in all_schemas(types)]


def schema(types: list[ResourceType], schema_id: str, config: ScimConfig) -> dict:
    for found in all_schemas(types):
        if found.id == schema_id:
            return _schema_document(found, config)
    raise NotFound(f"No schema '{schema_id}'.")


def _schema_document(found: Schema, config: ScimConfig) -> dict:
    document = found.to_dict()
    document["meta"] = {"resourceType": "Schema", "location": f"{config.base_url}/Schemas/{found.id}"}
    return document
