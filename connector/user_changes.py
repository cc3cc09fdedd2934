"""What every change to a user does, whichever rule makes it: refuse users pending deletion,
bump the version (the SCIM ETag), and write the audit event."""
from __future__ import annotations

from datetime import datetime

from connector import audit
from connector.clock import isoformat, utcnow
from connector.errors import NotFound


def require_present(user) -> None:
    """A user pending deletion is gone for every caller but purge and objective reassignment
    (RFC 7644 §3.6: after a DELETE, the resource is no longer available)."""
    if user.pending_deletion_at is not None:
        raise NotFound(f"No user with the id {user.id!r} in this organisation")


def touch(user) -> None:
    """Mark the user changed: a new version and updated_at. The caller saves."""
    user.version += 1
    user.updated_at = utcnow()


def snapshot(user, fields) -> dict:
    """The fields' values as the audit trail stores them (datetimes as ISO text)."""
    return {name: _plain(getattr(user, name)) for name in fields}


def record(action: str, user, changes: dict | None = None) -> None:
    audit.record(action, organisation=user.organisation_id, target_type="user", target_id=user.id,
                 target_label=user.user_name, changes=changes)


def _plain(value):
    return isoformat(value) if isinstance(value, datetime) else value
