"""The audit trail: who changed what, when, from where. Append-only; secrets never recorded.

Callers say what happened with `record(...)`; who did it comes from the context: the SCIM
request's credentials, the CLI, or a join link, set with `acting_as(...)`. Readers filter with
`events_query(...)`; `prune(...)` applies the retention period (audit.retention_days).
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from peewee import fn

from connector.clock import isoformat, utcnow
from connector.db import insert_rows, write_transaction
from connector.limits import shortened
from connector.models import AuditEvent, User

PRUNE_BATCH = 5000  # events deleted per transaction

_actor: ContextVar[str] = ContextVar("ally_audit_actor", default="system")
_request_id: ContextVar[str | None] = ContextVar("ally_audit_request_id", default=None)

# Field names whose values never reach the audit trail, whatever the caller passes.
SECRET_FIELDS = frozenset({"password", "password_hash", "token", "token_hash", "secret", "client_secret",
                           "secret_hash", "access_token", "refresh_token", "code"})


@contextmanager
def acting_as(actor: str, request_id: str | None = None):
    """Attribute every event recorded inside the block to `actor` (e.g. "token:Okta", "cli")."""
    actor_token = _actor.set(actor)
    request_token = _request_id.set(request_id)
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _request_id.reset(request_token)


def current_actor() -> str:
    return _actor.get()


def current_request_id() -> str | None:
    return _request_id.get()


def record(action: str, *, organisation=None, target_type: str | None = None, target_id=None,
           target_label: str | None = None, changes: dict | None = None) -> None:
    """Append one event. `changes` maps a field to [before, after]; secret fields are masked."""
    insert_rows(AuditEvent, [_event(action, organisation, target_type, target_id, target_label, changes)])


def record_many(action: str, *, organisation=None, target_type: str | None = None,
                targets: list[tuple] = ()) -> None:
    """Append one event per (target_id, target_label, changes) in one statement: for changes
    that touch many targets at once, such as adding a thousand members to a team."""
    insert_rows(AuditEvent, [_event(action, organisation, target_type, target_id, label, changes)
                             for target_id, label, changes in targets])


def events_query(org, *, since=None, user: str | None = None, action: str | None = None):
    """The organisation's events, oldest first, narrowed to those at or after `since`, those
    whose target is the user named by `user` (id, userName or email, case-insensitively; a
    user since deleted is matched by the userName the events recorded), and those whose action
    is `action` (see _action_matches for families and prefixes)."""
    query = AuditEvent.select().where(AuditEvent.organisation == org)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if user:
        query = query.where(_about_user(org, user))
    if action:
        query = query.where(_action_matches(action.strip()))
    return query.order_by(AuditEvent.at, AuditEvent.id)


def as_dict(event: AuditEvent) -> dict:
    """An event as the CLI's --json (and tools) see it."""
    return {"id": event.id, "at": isoformat(event.at), "actor": event.actor, "action": event.action,
            "target_type": event.target_type, "target_id": event.target_id, "target_label": event.target_label,
            "changes": event.changes, "request_id": event.request_id}


def prune(older_than_days: int) -> int:
    """Delete the events older than the retention period (every organisation's), a few thousand
    per transaction so writers are never held up for long; the pruning itself is recorded.
    Returns how many were deleted."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    deleted = 0
    while True:
        with write_transaction():
            batch = AuditEvent.select(AuditEvent.id).where(AuditEvent.at < cutoff).limit(PRUNE_BATCH)
            count = AuditEvent.delete().where(AuditEvent.id.in_(batch)).execute()
        deleted += count
        if count < PRUNE_BATCH:
            break
    if deleted:
        record("audit.pruned", changes={"events": [deleted, None], "older_than": [isoformat(cutoff), None]})
    return deleted


def _about_user(org, identifier: str):
    key = identifier.strip().lower()
    matching = User.select(User.id).where((User.organisation == org) & (
        (User.id == identifier.strip()) | (fn.LOWER(User.user_name) == key) | (fn.LOWER(User.email) == key)))
    return (AuditEvent.target_type == "user") & (
        AuditEvent.target_id.in_(matching) | (fn.LOWER(AuditEvent.target_label) == key))


def _action_matches(action: str):
    """"user.created" exactly; "user", "user." and "user.*" the whole family; "team.member_*" a prefix."""
    if action.endswith("*"):
        prefix = action[:-1]
    elif action.endswith(".") or "." not in action:
        prefix = action.rstrip(".") + "."
    else:
        return AuditEvent.action == action
    return fn.SUBSTR(AuditEvent.action, 1, len(prefix)) == prefix  # not LIKE: "_" in names is no wildcard


def _event(action, organisation, target_type, target_id, target_label, changes) -> dict:
    return dict(
        organisation=organisation,
        actor=_fitted(_actor.get(), AuditEvent.actor),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        target_label=_fitted(target_label, AuditEvent.target_label),
        changes=_without_secrets(changes),
        request_id=_request_id.get(),
        at=utcnow(),
    )


def _fitted(label: str | None, field) -> str | None:
    """A label as its column holds it: cut short, ending in "…", when longer (an admin's
    320-character email in "admin:<email>", a 500-character objective title). The event's
    target_id still names the target exactly."""
    return label if label is None else shortened(label, field.max_length)


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields whose values differ."""
    return {key: [before.get(key), after.get(key)]
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)}


def _without_secrets(changes: dict | None) -> dict | None:
    if not changes:
        return None
    return {key: (["***", "***"] if key in SECRET_FIELDS else value) for key, value in changes.items()}
