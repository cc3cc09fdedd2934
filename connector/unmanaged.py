"""Accounts the identity provider does not manage: the ones offboarding in the IdP would miss.

Two kinds of active or invited user (suspended users cannot log in, so they are not listed):
- not provisioned by an IdP (managed_by_idp false): invited by hand, imported from CSV, or
  joined directly through auto-join. Deactivating the person in Okta or Entra ID never
  reaches them.
- provisioned by the IdP, but not touched by it for `stale_days` days or ever (idp_seen_at,
  which the SCIM users backend sets on every change an IdP makes): the IdP may have stopped
  assigning them to the Ally app without telling us.
Built with a fixed number of queries, whatever the number of users.
"""
from __future__ import annotations

from datetime import timedelta

from connector.clock import isoformat, utcnow
from connector.db import batches
from connector.directory import users_query
from connector.models import AuditEvent, User

NOT_MANAGED, STALE, NEVER_SEEN = "not_managed_by_idp", "idp_stale", "idp_never_seen"
BATCH = 500  # ids per IN (...) list
ORIGINS = {"csv-import": "imported from CSV", "cli": "created with the ally-scim command line"}


def unmanaged_rows(org, stale_days: int) -> list[dict]:
    """One row per account offboarding would miss, those not managed by an IdP first, each by
    userName: id, userName, email, status, managed_by_idp, idp_seen_at, created_at, reason
    (one of NOT_MANAGED, STALE, NEVER_SEEN), detail (the reason in words)."""
    now = utcnow()
    cutoff = now - timedelta(days=stale_days)
    stale = User.managed_by_idp & (User.idp_seen_at.is_null() | (User.idp_seen_at < cutoff))
    users = list(users_query(org).where(User.status.in_(("active", "invited")) & (~User.managed_by_idp | stale))
                 .order_by(User.managed_by_idp, User.user_name_key))
    origins = _origins(org, [user.id for user in users if not user.managed_by_idp])
    return [_row(user, origins.get(user.id), now) for user in users]


def _row(user, origin: str | None, now) -> dict:
    if not user.managed_by_idp:
        reason, detail = NOT_MANAGED, f"not provisioned by an IdP: {origin or 'origin unknown (no audit record left)'}"
    elif user.idp_seen_at is None:
        reason, detail = NEVER_SEEN, "managed by the IdP, but never changed by it"
    else:
        days = (now - user.idp_seen_at).days
        reason, detail = STALE, f"managed by the IdP, last changed by it {days} days ago ({user.idp_seen_at:%Y-%m-%d})"
    return {"id": user.id, "userName": user.user_name, "email": user.email, "status": user.status,
            "managed_by_idp": user.managed_by_idp, "idp_seen_at": isoformat(user.idp_seen_at),
            "created_at": isoformat(user.created_at), "reason": reason, "detail": detail}


def _origins(org, user_ids: list[str]) -> dict[str, str]:
    """How each user came to be, from their user.created audit event: who created them, and
    whether they joined directly (auto-join) or were invited."""
    origins = {}
    for batch in batches(user_ids, BATCH):
        query = (AuditEvent.select(AuditEvent.target_id, AuditEvent.actor, AuditEvent.at, AuditEvent.changes)
                 .where((AuditEvent.organisation == org) & (AuditEvent.action == "user.created")
                        & (AuditEvent.target_type == "user") & AuditEvent.target_id.in_(batch)))
        for event in query:
            status = ((event.changes or {}).get("status") or [None, None])[1]
            joined = "joined directly (auto-join)" if status == "active" else "invited"
            origins[event.target_id] = f"{_creator(event.actor)} on {event.at:%Y-%m-%d}, {joined}"
    return origins


def _creator(actor: str) -> str:
    if actor in ORIGINS:
        return ORIGINS[actor]
    kind, _, name = actor.partition(":")
    return f"created by the admin {name}" if kind == "admin" and name else f"created by {actor}"
