"""SCIM 2.0 (RFC 7643/7644) protocol: schemas, filters, PATCH, listing, errors and the Flask blueprint.
Knows nothing about Ally; it calls one backend per resource type."""
