"""Managers. A user may have a manager from the same organisation, with no cycles; users who
manage someone are the "designated managers" of Ally's Manager dropdown (derived, not stored).
Over SCIM this is the enterprise extension's manager.value (RFC 7643 §4.3).
"""
from __future__ import annotations

from peewee import Case, fn

from connector import audit, hierarchy
from connector.db import batches, locked_for_share, write_transaction
from connector.errors import ManagerCycle, ManagerNotFound
from connector.models import User
from connector.user_changes import require_present, update_many

BATCH = 500  # ids per IN (...) list


def set_manager(user, manager) -> User:
    """Give the user a manager (a User or a user id) or clear it (None)."""
    return set_managers([(user, manager)])[0]


def set_managers(pairs: list[tuple]) -> list[User]:
    """set_manager for many (user, manager) pairs of one organisation at once, a few statements
    per few hundred users (a bulk import). The first refusal refuses them all. The User objects
    given are updated as they are stored."""
    if not pairs:
        return []
    for user, _ in pairs:
        require_present(user)
    org_id = pairs[0][0].organisation_id
    if any(user.organisation_id != org_id for user, _ in pairs):
        raise ValueError("set_managers takes users of one organisation")
    with write_transaction():
        wanted = _resolve(org_id, pairs)
        changed = [(user, new) for user, new in wanted if user.manager_id != (new.id if new else None)]
        looped = hierarchy.first_loop(User, User.manager, {user.id: new.id if new else None for user, new in changed})
        if looped is not None:
            user, new = next((user, new) for user, new in changed if user.id == looped)
            raise ManagerCycle(user.user_name, new.user_name)
        _store(org_id, changed)
    return [user for user, _ in pairs]


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


def _resolve(org_id, pairs: list[tuple]) -> list[tuple]:
    """(user, manager User or None) for each pair; a manager must be a present user of the
    same organisation, and stays one until the transaction ends (db.locked_for_share)."""
    ids = [_id_of(manager) for _, manager in pairs]
    found = {}
    for batch in batches(sorted({i for i in ids if i is not None}), BATCH):
        found.update((user.id, user) for user in locked_for_share(User.select().where(
            User.id.in_(batch) & (User.organisation == org_id) & User.pending_deletion_at.is_null())))
    missing = next((i for i in ids if i is not None and i not in found), None)
    if missing is not None:
        raise ManagerNotFound(missing)
    return [(user, found.get(manager_id)) for (user, _), manager_id in zip(pairs, ids)]


def _id_of(manager) -> str | None:
    return manager.id if isinstance(manager, User) else None if manager is None else str(manager)


def _store(org_id, changed: list[tuple]) -> None:
    """Write the new managers (one UPDATE per few hundred users, user_changes.update_many),
    update the objects, and audit each change with the old and new manager's userName."""
    before = {}
    for batch in batches(sorted({user.manager_id for user, _ in changed if user.manager_id}), BATCH):
        before.update(User.select(User.id, User.user_name).where(User.id.in_(batch)).tuples())
    for batch in batches(changed, BATCH):
        new_manager = Case(User.id, [(user.id, new.id if new else None) for user, new in batch])
        update_many([user for user, _ in batch], {User.manager: new_manager})
    events = [(user.id, user.user_name, {"manager": [before.get(user.manager_id), new.user_name if new else None]})
              for user, new in changed]
    for user, new in changed:
        user.manager = new
        user._dirty.discard("manager")  # written above
    audit.record_many("user.manager_changed", organisation=org_id, target_type="user", targets=events)
