"""What a membership change means beyond the team: joining a team named in the organisation's
admin_groups makes a user an admin, and leaving it ends that (unless granted another way).

Admin rights are computed, not stored (connector.admins); this module only writes the audit
events that say whose effective rights a team change gave or took.
"""
from __future__ import annotations

from contextlib import contextmanager

from connector import audit
from connector.admins import BATCH, admin_group_keys, effective_admin_ids
from connector.db import batches
from connector.models import User


@contextmanager
def admin_changes(team, org, user_ids, *, new_name: str | None = None):
    """Around a change to an admin-group team (or a rename into one): afterwards, record
    user.admin_granted or user.admin_revoked for each of user_ids whose rights changed."""
    keys = admin_group_keys(org)
    concerned = team.name_key in keys or (new_name is not None and new_name.strip().lower() in keys)
    if not concerned or not user_ids:
        yield
        return
    before = effective_admin_ids(org, user_ids)
    yield
    after = effective_admin_ids(org, user_ids)
    _record(org, "user.admin_granted", after - before, {"admin": [False, True], "admin_group": [None, team.name]})
    _record(org, "user.admin_revoked", before - after, {"admin": [True, False], "admin_group": [team.name, None]})


def _record(org, action: str, user_ids: set[str], changes: dict) -> None:
    if not user_ids:
        return
    names = {}
    for batch in batches(sorted(user_ids), BATCH):
        names.update(User.select(User.id, User.user_name).where(User.id.in_(batch)).tuples())
    targets = [(user_id, names.get(user_id), changes) for user_id in sorted(user_ids)]
    audit.record_many(action, organisation=org, target_type="user", targets=targets)
