"""The audit trail: who changed what, when, from where. Append-only; secrets never recorded.

Callers say what happened with `record(...)`; who did it comes from the context: the SCIM
request's credentials, the CLI, or a join link, set with `acting_as(...)`.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from connector.clock import utcnow
from connector.db import insert_rows
from connector.models import AuditEvent

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
           target_label: str | None = None, changes: dict | None = None) -> AuditEvent:
    """Append one event. `changes` maps a field to [before, after]; secret fields are masked."""
    return AuditEvent.create(**_event(action, organisation, target_type, target_id, target_label, changes))


def record_many(action: str, *, organisation=None, target_type: str | None = None,
                targets: list[tuple] = ()) -> None:
    """Append one event per (target_id, target_label, changes) in one statement: for changes
    that touch many targets at once, such as adding a thousand members to a team."""
    insert_rows(AuditEvent, [_event(action, organisation, target_type, target_id, label, changes)
                             for target_id, label, changes in targets])


def _event(action, organisation, target_type, target_id, target_label, changes) -> dict:
    return dict(
        organisation=organisation,
        actor=_actor.get(),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        target_label=target_label,
        changes=_without_secrets(changes),
        request_id=_request_id.get(),
        at=utcnow(),
    )


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields whose values differ."""
    return {key: [before.get(key), after.get(key)]
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)}


def _without_secrets(changes: dict | None) -> dict | None:
    if not changes:
        return None
    return {key: (["***", "***"] if key in SECRET_FIELDS else value) for key, value in changes.items()}
