"""The SCIM 2.0 API of the connector: the protocol (scim/) over Ally's resource types.

Each entry of RESOURCE_TYPES is a factory `(scim.ScimConfig) -> scim.ResourceType`; adding a
resource type is adding its factory here.
"""
from __future__ import annotations

from flask import Flask

import scim
from connector import scim_groups, scim_users
from connector.config import Settings
from connector.oauth_tenancy import SCIM_PREFIX

RESOURCE_TYPES = (
    scim_users.resource_type,
    scim_groups.resource_type,
)


def init_app(app: Flask, settings: Settings) -> scim.Context:
    """Register /scim/v2. Call after oauth_tenancy.init_app (every SCIM view needs the
    request's organisation) and before http_errors.init_app (see connector.create_app)."""
    config = scim_config(settings)
    return scim.init_app(app, resource_types=[factory(config) for factory in RESOURCE_TYPES], config=config,
                         prefix=SCIM_PREFIX)


def scim_config(settings: Settings) -> scim.ScimConfig:
    limits = settings.scim
    return scim.ScimConfig(
        base_url=settings.public_url + SCIM_PREFIX,
        max_results=limits.max_results,
        default_count=limits.default_count,
        max_filter_length=limits.max_filter_length,
        bulk_max_operations=limits.bulk_max_operations,
        bulk_max_payload_bytes=limits.bulk_max_payload_bytes,
    )
