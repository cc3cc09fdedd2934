"""The scopes this server knows and how a request's scope string is read.

scim:read covers GETs and searches, scim:write every change (DESIGN.md §5); audit:read reads the
audit trail through its JSON endpoint (for admins' tools, never given by default). offline_access is
the conventional OAuth scope for "keep access through refresh tokens" (Okta's tip for SCIM
authorization servers); it is accepted and echoed, never required.
"""
from __future__ import annotations

SCIM_READ = "scim:read"
SCIM_WRITE = "scim:write"
AUDIT_READ = "audit:read"
OFFLINE_ACCESS = "offline_access"
SCIM_SCOPES = (SCIM_READ, SCIM_WRITE)
GRANTABLE = (SCIM_READ, SCIM_WRITE, AUDIT_READ)
SUPPORTED = (SCIM_READ, SCIM_WRITE, AUDIT_READ, OFFLINE_ACCESS)
DESCRIPTIONS = {
    SCIM_READ: "Read users and teams",
    SCIM_WRITE: "Create, change, suspend and delete users and teams",
    AUDIT_READ: "Read the audit trail",
    OFFLINE_ACCESS: "Keep this access without an admin signing in again (refresh tokens)",
}


class ScopeError(ValueError):
    """A scope string names scopes this server does not offer; the message names them."""


def parse_scopes(text: str | None) -> tuple[str, ...]:
    """Grantable scopes from a space- or comma-separated string, in canonical order; empty or
    unknown scopes are refused with a message naming them."""
    names = (text or "").replace(",", " ").split()
    unknown = sorted(set(names) - set(GRANTABLE))
    if unknown:
        raise ScopeError(f"unknown scope {', '.join(unknown)}; use {', '.join(GRANTABLE)}")
    if not names:
        raise ScopeError(f"at least one scope is needed: {', '.join(GRANTABLE)}")
    return tuple(scope for scope in GRANTABLE if scope in names)


def to_text(scopes) -> str:
    return " ".join(scopes)


def to_tuple(text: str | None) -> tuple[str, ...]:
    return tuple((text or "").split())
