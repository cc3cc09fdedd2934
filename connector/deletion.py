"""Deleting users. Ally's Delete is permanent ("it will appear as though they never existed")
and refused while the user owns objectives; SCIM DELETE must revoke access at once, so an
objective owner is suspended, released and left pending deletion until the admins reassign
the objectives and purge (DESIGN.md §3).
"""
from __future__ import annotations

from peewee import fn

from connector import audit, invitations, memberships
from connector.clock import utcnow
from connector.db import write_transaction
from connector.errors import OwnsObjectives
from connector.models import Objective, User
from connector import user_changes
from connector.user_changes import record, require_present, snapshot


def owned_objectives(user) -> int:
    return Objective.select().where(Objective.owner == user).count()


def delete_user(user) -> None:
    """Ally's Delete: permanent, erases the user's activity; refused while they own objectives."""
    with write_transaction():
        count = owned_objectives(user)
        if count:
            raise OwnsObjectives(count)
        _erase(user, "user.deleted")


def scim_delete_user(user) -> str:
    """SCIM DELETE must revoke access at once (RFC 7644 §3.6). An objective owner cannot be
    deleted in Ally, so they are suspended, their userName and email released, and they are
    left for the admins to reassign and purge. Returns "deleted" or "pending_deletion"."""
    require_present(user)
    with write_transaction():
        if not owned_objectives(user):
            _erase(user, "user.deleted")
            return "deleted"
        _mark_pending_deletion(user)
        return "pending_deletion"


def purge(org) -> list[str]:
    """Delete the users pending deletion who no longer own objectives; their userNames."""
    owns = Objective.select(Objective.id).where(Objective.owner == User.id)
    with write_transaction():
        users = list(User.select().where((User.organisation == org) & User.pending_deletion_at.is_null(False)
                                         & ~fn.EXISTS(owns)).order_by(User.user_name))
        for user in users:
            _erase(user, "user.purged")
    return [user.user_name for user in users]


def pending_deletion(org) -> list[User]:
    return list(User.select().where((User.organisation == org) & User.pending_deletion_at.is_null(False))
                .order_by(User.user_name))


def _mark_pending_deletion(user) -> None:
    before = {**snapshot(user, ("status", "user_name_key", "email_key", "is_admin")), "manager": user.manager_id}
    now = utcnow()
    user.status, user.suspended_at = "suspended", user.suspended_at or now
    user.user_name_key = user.email_key = user.manager = None
    user.is_admin, user.pending_deletion_at = False, now
    user_changes.save(user)
    invitations.revoke_open(user)
    memberships.leave_all(user)
    _detach_reports(user)
    after = {**snapshot(user, ("status", "user_name_key", "email_key", "is_admin", "pending_deletion_at")), "manager": None}
    record("user.pending_deletion", user, audit.diff(before, after))


def _erase(user, action: str) -> None:
    """Delete the row; values and invitations go with it (ON DELETE CASCADE)."""
    _detach_reports(user)
    memberships.leave_all(user)
    record(action, user, {"status": [user.status, None]})
    user_changes.delete(user)


def _detach_reports(user) -> None:
    """The user's reports have no manager any more."""
    reports = list(User.select(User.id, User.user_name).where(User.manager == user).tuples())
    if not reports:
        return
    User.update(manager=None, version=User.version + 1, updated_at=utcnow()).where(User.manager == user).execute()
    audit.record_many("user.manager_changed", organisation=user.organisation_id, target_type="user",
                      targets=[(report_id, name, {"manager": [user.user_name, None]}) for report_id, name in reports])
