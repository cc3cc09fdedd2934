"""What every change to a user does, whichever rule makes it: refuse users pending deletion,
write the change as the user's next version (the SCIM ETag) in SQL, and write the audit event.

Versions are bumped by the database (`version = version + 1`), never computed in Python, so two
writers can never store the same next version. A caller that changes a user as of a version it
read (SCIM If-Match) wraps its changes in `changing(user, expected_version=...)`: every write
inside is then also guarded by `WHERE version = <the version this object holds>`, and a row
another writer moved on raises StaleVersion, which rolls the caller's transaction back.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from peewee import Case, Node

from connector import audit
from connector.clock import isoformat, utcnow
from connector.db import cached_execute
from connector.errors import NotFound, StaleVersion
from connector.models import User

# Written by save() itself; a caller's value for them is never used.
_MANAGED = frozenset({"version", "updated_at", "idp_seen_at"})


@dataclass(frozen=True)
class _Change:
    guarded: bool = False
    by_idp: bool = False


def require_present(user) -> None:
    """A user pending deletion is gone for every caller but purge and objective reassignment
    (RFC 7644 §3.6: after a DELETE, the resource is no longer available)."""
    if user.pending_deletion_at is not None:
        raise NotFound(f"No user with the id {user.id!r} in this organisation")


@contextmanager
def changing(user, *, expected_version=None, by_idp: bool = False):
    """Around one caller's changes to one user object (a SCIM request). expected_version (the
    If-Match version) must be the version the object was read with, and every write below is
    compare-and-set against it; by_idp records the writes as the identity provider's
    (User.idp_seen_at, read by the report of accounts no IdP manages)."""
    if expected_version is not None and str(expected_version) != str(user.version):
        raise StaleVersion(user.user_name, expected_version)
    previous = user.__dict__.get("_change")
    user._change = _Change(guarded=expected_version is not None, by_idp=by_idp)
    try:
        yield user
    finally:
        user._change = previous


def save(user) -> None:
    """Write the user's changed fields as one new version (see update_many)."""
    data = {field: user.__data__.get(field.name) for field in user.dirty_fields if field.name not in _MANAGED}
    update_many([user], data)
    user._dirty.clear()


def update_many(users: list, data: dict) -> None:
    """One UPDATE writing `data` (column -> value, or an SQL expression such as a CASE over
    User.id) to these users, each as one new version: `version = version + 1` and updated_at
    in SQL, idp_seen_at for users changed for the IdP, compare-and-set for users under an
    expected version (see the module docstring). The objects get the new version."""
    changes = [_change_of(user) for user in users]
    now = utcnow()
    data = {**data, User.version: User.version + 1, User.updated_at: now}
    seen = [user.id for user, change in zip(users, changes) if change.by_idp]
    if seen:
        data[User.idp_seen_at] = now if len(seen) == len(users) else \
            Case(User.id, [(user_id, now) for user_id in seen], User.idp_seen_at)
    if _update(users, changes, data) != len({user.id for user in users}):
        _lost(users, changes)
    for user, change in zip(users, changes):
        user.version, user.updated_at = user.version + 1, now
        if change.by_idp:
            user.idp_seen_at = now


def _update(users: list, changes: list, data: dict) -> int:
    """Run the UPDATE; how many rows it wrote. The usual one (one user, plain values) has its
    SQL text built once per set of columns (db.cached_execute), not on every request."""
    if len(users) > 1 or any(isinstance(value, Node) for field, value in data.items() if field is not User.version):
        return User.update(data).where(_current(users, changes)).execute()
    user, guarded = users[0], changes[0].guarded
    columns = sorted(data, key=lambda field: field._sort_key)  # peewee's SET order
    params = [1 if field is User.version else field.db_value(data[field]) for field in columns]
    params += [user.id, user.version] if guarded else [user.id]
    shape = ("update_user", tuple(field.name for field in columns), guarded)
    return cached_execute(shape, lambda: User.update(data).where(_current(users, changes)), params).rowcount


def delete(user) -> None:
    """Delete the user's row (values, memberships and invitations go with it, ON DELETE
    CASCADE), compare-and-set like save()."""
    changes = [_change_of(user)]
    if not User.delete().where(_current([user], changes)).execute():
        _lost([user], changes)


def _change_of(user) -> _Change:
    return user.__dict__.get("_change") or _Change()


def _current(users: list, changes: list):
    """The rows as the objects know them: the id, and for guarded users the version too."""
    plain = [user.id for user, change in zip(users, changes) if not change.guarded]
    where = User.id.in_(plain) if plain else None
    for user, change in zip(users, changes):
        if change.guarded:
            clause = (User.id == user.id) & (User.version == user.version)
            where = clause if where is None else where | clause
    return where


def _lost(users: list, changes: list) -> None:
    """Which user another writer changed (StaleVersion) or deleted (NotFound)."""
    stored = dict(User.select(User.id, User.version).where(User.id.in_([user.id for user in users])).tuples())
    for user, change in zip(users, changes):
        if user.id not in stored:
            raise NotFound(f"No user with the id {user.id!r} in this organisation")
        if change.guarded and stored[user.id] != user.version:
            raise StaleVersion(user.user_name, user.version)
    raise RuntimeError("a user update wrote fewer rows than it was given")


def snapshot(user, fields) -> dict:
    """The fields' values as the audit trail stores them (datetimes as ISO text)."""
    return {name: _plain(getattr(user, name)) for name in fields}


def record(action: str, user, changes: dict | None = None) -> None:
    audit.record(action, organisation=user.organisation_id, target_type="user", target_id=user.id,
                 target_label=user.user_name, changes=changes)


def _plain(value):
    return isoformat(value) if isinstance(value, datetime) else value
