"""Admin privileges ("Make Admin"). A user is an admin when it was granted to them directly
(User.is_admin: by hand, or SCIM roles=admin) or while they are a member of a team named in
the organisation's admin_groups (compared case-insensitively). Effective admin rights are
computed in SQL, never stored, so leaving the group ends them unless granted another way.
"""
from __future__ import annotations

from peewee import fn

from connector.db import batches, write_transaction
from connector.models import Membership, Team, User
from connector.user_changes import record, require_present, save

BATCH = 500


def grant_admin(user) -> User:
    return _set_admin(user, True)


def revoke_admin(user) -> User:
    """Remove the directly granted right; an admin-group member stays an admin."""
    return _set_admin(user, False)


def admin_group_keys(org) -> list[str]:
    return sorted({name.strip().lower() for name in org.admin_groups or () if name.strip()})


def ally_teams(org, model=Team):
    """A boolean SQL expression over Team (or an alias of it): is this team an Ally team?
    Every team is, except admin groups when the organisation sets admin_groups_are_teams to
    false: those only grant admin rights. They stay SCIM groups, and stay in their members'
    SCIM `groups` (the IdP pushed that membership and compares it), but Ally's team lists
    leave them out."""
    keys = admin_group_keys(org)
    if org.admin_groups_are_teams or not keys:
        return model.id.is_null(False)
    return model.name_key.not_in(keys)


def admin_expression(org):
    """A boolean SQL expression over User: is this user an admin? Usable in a select or a
    where for many users at once."""
    keys = admin_group_keys(org)
    if not keys:
        return User.is_admin == True  # noqa: E712 - a SQL expression, not a Python comparison
    in_group = (Membership.select(Membership.id).join(Team)
                .where((Membership.user == User.id) & (Team.organisation == org) & Team.name_key.in_(keys)))
    return (User.is_admin == True) | fn.EXISTS(in_group)  # noqa: E712


def is_effective_admin(user) -> bool:
    org = user.organisation
    return User.select().where((User.id == user.id) & admin_expression(org)).exists()


def effective_admin_ids(org, user_ids) -> set[str]:
    """Which of these users are admins, in one query per BATCH ids."""
    admins = set()
    for batch in batches(list(user_ids), BATCH):
        query = User.select(User.id).where(User.id.in_(batch) & (User.organisation == org) & admin_expression(org))
        admins.update(user_id for (user_id,) in query.tuples())
    return admins


def _set_admin(user, flag: bool) -> User:
    require_present(user)
    if user.is_admin == flag:
        return user
    with write_transaction():
        user.is_admin = flag
        save(user)
        record("user.admin_granted" if flag else "user.admin_revoked", user, {"is_admin": [not flag, flag]})
    return user
