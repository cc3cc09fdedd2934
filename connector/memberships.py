"""Membership rows: who is in which team. Rows are inserted and deleted by user id, costing
the ids given, never the team's size (a 50,000-member team is never loaded to add or remove
one member); readers fetch a whole page of teams' members in one query. The rules around
them (unknown users, admin groups, versions, audit of the team) are connector.teams'.
"""
from __future__ import annotations

from peewee import fn

from connector import audit
from connector.clock import utcnow
from connector.db import batches, cached_select, locked_for_share
from connector.errors import MemberNotFound
from connector.models import Membership, Team, User

BATCH = 500  # ids per IN (...) list and rows per INSERT
TEAM_ORDER = (Team.name_key, Team.id)  # a user's teams, as SCIM User `groups` lists them


def member_ids(team) -> list[str]:
    return [user_id for (user_id,) in Membership.select(Membership.user).where(Membership.team == team).tuples()]


def members(team) -> list[tuple[str, str]]:
    """(id, userName) of the team's members, by userName."""
    return [(user_id, user_name) for user_id, user_name, _ in members_of([team.id]).get(team.id, [])]


def members_of(team_ids) -> dict[str, list[tuple[str, str, str | None]]]:
    """{team id: [(id, userName, displayName), ...] by userName} for these teams, in one query
    per BATCH teams (SCIM Group `members` of a page of groups)."""
    found: dict[str, list] = {}
    for batch in batches(list(team_ids), BATCH):
        query = (Membership.select(Membership.team, User.id, User.user_name, User.display_name).join(User)
                 .where(Membership.team.in_(batch)).order_by(fn.LOWER(User.user_name), User.id).tuples())
        for team_id, *member in query:
            found.setdefault(team_id, []).append(tuple(member))
    return found


def names_of(team_ids) -> dict[str, str]:
    """{team id: name} for these teams (parents of a page of groups), in one query."""
    ids = [team_id for team_id in set(team_ids) if team_id]
    return dict(Team.select(Team.id, Team.name).where(Team.id.in_(ids)).tuples()) if ids else {}


def of_users(user_ids):
    """The users' memberships joined with their teams, unordered: select the columns wanted."""
    return Membership.select().join(Team).where(Membership.user.in_(user_ids))


def teams_of(user) -> list[tuple[str, str]]:
    """(id, name) of the teams the user belongs to, by name (SCIM User `groups`)."""
    return teams_of_users([user.id]).get(user.id, [])


def teams_of_users(user_ids) -> dict[str, list[tuple[str, str]]]:
    """{user id: [(team id, name), ...]} by name, for many users at once (a SCIM page of
    users): one query per BATCH ids."""
    found: dict[str, list[tuple[str, str]]] = {}
    for batch in batches(list(user_ids), BATCH):
        def build(batch=batch):
            return (of_users(batch).select(Membership.user, Team.id, Team.name)
                    .order_by(*TEAM_ORDER).tuples())

        for user_id, team_id, name in cached_select(("teams_of_users", len(batch)), build, list(batch)):
            found.setdefault(user_id, []).append((team_id, name))
    return found


def difference(team, wanted) -> tuple[list[str], list[str]]:
    """(ids to add, ids to remove) to make the members exactly `wanted`."""
    wanted, current = distinct(wanted), set(member_ids(team))
    keep = set(wanted)
    return [i for i in wanted if i not in current], sorted(i for i in current if i not in keep)


def insert(team, org, ids) -> dict[str, str]:
    """Insert memberships of the ids that are not members yet ({id: userName} of those);
    refuse unknown users. The new members' rows are locked (db.locked_for_share) so none is
    deleted under the insert; rows go in id order, so concurrent inserts never deadlock."""
    if not ids:
        return {}
    present = _members_among(team, ids)
    absent = [user_id for user_id in ids if user_id not in present]
    names = _users_named(org, absent)
    missing = set(absent) - set(names)
    if missing:
        raise MemberNotFound(missing)
    added = {user_id: names[user_id] for user_id in absent}
    for batch in batches(sorted(added), BATCH):
        rows = [{"team": team.id, "user": user_id, "created_at": utcnow()} for user_id in batch]
        Membership.insert_many(rows).on_conflict_ignore().execute()
    return added


def delete(team, ids) -> dict[str, str]:
    """Delete the memberships of the ids that are members ({id: userName} of those)."""
    if not ids:
        return {}
    present = _members_among(team, ids)
    removed = {user_id: present[user_id] for user_id in ids if user_id in present}
    for batch in batches(sorted(removed), BATCH):
        Membership.delete().where((Membership.team == team) & Membership.user.in_(batch)).execute()
    return removed


def _users_named(org, ids) -> dict[str, str]:
    """{id: userName} for the ids that are present users of the organisation, locked."""
    found = {}
    for batch in batches(sorted(ids), BATCH):
        query = User.select(User.id, User.user_name).where(
            User.id.in_(batch) & (User.organisation == org) & User.pending_deletion_at.is_null())
        found.update(locked_for_share(query).tuples())
    return found


def _members_among(team, ids) -> dict[str, str]:
    """{id: userName} for the ids that are members of the team."""
    found = {}
    for batch in batches(ids, BATCH):
        query = (Membership.select(Membership.user, User.user_name).join(User)
                 .where((Membership.team == team) & Membership.user.in_(batch)))
        found.update(query.tuples())
    return found


def record_events(action: str, team, org, users: dict[str, str], change: list) -> None:
    if users:
        audit.record_many(action, organisation=org, target_type="user",
                          targets=[(user_id, name, {"team": change}) for user_id, name in users.items()])


def leave_all(user) -> None:
    """Take the user out of every team (the user is being deleted): the teams' versions move,
    so their SCIM ETags and lastModified say the members changed."""
    teams = Membership.select(Membership.team).where(Membership.user == user)
    Team.update(version=Team.version + 1, updated_at=utcnow()).where(Team.id.in_(teams)).execute()
    Membership.delete().where(Membership.user == user).execute()


def distinct(user_ids) -> list[str]:
    return list(dict.fromkeys(str(user_id) for user_id in user_ids or ()))
