"""Managers. A user may have a manager from the same organisation, with no cycles; users who
manage someone are the "designated managers" of Ally's Manager dropdown (derived, not stored).
Over SCIM this is the enterprise extension's manager.value (RFC 7643 §4.3).
"""
from __future__ import annotations

from peewee import fn

from connector import hierarchy
from connector.db import write_transaction
from connector.errors import ManagerCycle, ManagerNotFound
from connector.models import User
from connector.user_changes import record, require_present, touch


def set_manager(user, manager) -> User:
    """Give the user a manager (a User or a user id) or clear it (None)."""
    require_present(user)
    with write_transaction():
        new = _resolve(user, manager)
        if new is not None and hierarchy.reaches(new, User.manager, user.id):
            raise ManagerCycle(user.user_name, new.user_name)
        if user.manager_id == (new.id if new else None):
            return user
        before = User.select(User.user_name).where(User.id == user.manager_id).scalar() if user.manager_id else None
        user.manager = new
        touch(user)
        user.save()
        record("user.manager_changed", user, {"manager": [before, new.user_name if new else None]})
    return user


def is_designated_manager(user) -> bool:
    Report = User.alias()
    return Report.select().where((Report.manager == user.id) & Report.pending_deletion_at.is_null()).exists()


def designated_manager_expression():
    """A boolean SQL expression over User: does this user manage someone?"""
    Report = User.alias()
    return fn.EXISTS(Report.select(Report.id).where((Report.manager == User.id) & Report.pending_deletion_at.is_null()))


def designated_managers(org) -> list[User]:
    """Ally's Manager dropdown: the users of the organisation who manage someone."""
    return list(User.select().where((User.organisation == org) & designated_manager_expression())
                .order_by(User.user_name_key))


def _resolve(user, manager) -> User | None:
    if manager is None:
        return None
    manager_id = manager.id if isinstance(manager, User) else str(manager)
    found = User.get_or_none((User.id == manager_id) & (User.organisation == user.organisation_id)
                             & User.pending_deletion_at.is_null())
    if found is None:
        raise ManagerNotFound(manager_id)
    return found
