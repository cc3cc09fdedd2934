"""Teams: names unique per organisation (case-insensitively), a hierarchy of teams and
sub-teams with no cycles, and memberships. Removing a member removes them from the team only;
deleting a team deletes the team and its memberships, never the users (DESIGN.md §3).

Membership changes cost in proportion to the user ids given, never to the team's size: a
50,000-member team is never loaded to add or remove one member.
"""
from __future__ import annotations

from peewee import IntegrityError, chunked, fn

from connector import audit, hierarchy, membership_effects
from connector.admins import admin_group_keys
from connector.clock import utcnow
from connector.db import database, write_transaction
from connector.errors import DuplicateTeam, InvalidTeamName, MemberNotFound, NotFound, ParentTeamNotFound, \
    TeamCycle, UnknownField
from connector.limits import check_text
from connector.models import Membership, Team, User

BATCH = 500  # ids per IN (...) list and rows per INSERT
CHANGEABLE = frozenset({"name", "external_id", "managed_by_idp"})


def get_team(org, team_id: str) -> Team:
    team = Team.get_or_none((Team.id == str(team_id)) & (Team.organisation == org))
    if team is None:
        raise NotFound(f"No team with the id {team_id!r} in this organisation")
    return team


def find_team(org, name_or_id: str) -> Team:
    """A team named by id or (case-insensitively) by name."""
    text = name_or_id.strip()
    team = Team.get_or_none((Team.organisation == org) & ((Team.id == text) | (Team.name_key == text.lower())))
    if team is None:
        raise NotFound(f"No team {name_or_id!r} in this organisation")
    return team


def create_team(org, name: str, *, parent=None, external_id: str | None = None, managed_by_idp: bool = False) -> Team:
    name = _checked_name(name)
    check_text(Team, {"external_id": external_id})
    with write_transaction():
        _ensure_free(org, name)
        team = Team(organisation=org, name=name, name_key=name.lower(), external_id=external_id,
                    managed_by_idp=managed_by_idp)
        if parent is not None:
            team.parent = _resolve_parent(org, team, parent)
        _save(team, org, force_insert=True)
        _record("team.created", team, {"name": [None, name], "parent": [None, _name_of(team.parent_id)]})
    return team


def update_team(team, changes: dict) -> Team:
    """Rename the team or change its externalId; unchanged values change nothing."""
    if set(changes) - CHANGEABLE:
        raise UnknownField(set(changes) - CHANGEABLE)
    check_text(Team, changes)
    if "name" in changes:
        changes = {**changes, "name": _checked_name(changes["name"])}
    before = {name: getattr(team, name) for name in changes}
    diff = audit.diff(before, changes)
    if not diff:
        return team
    org = team.organisation
    renamed_to = changes["name"] if "name" in diff else None
    with write_transaction(), membership_effects.admin_changes(team, org, _members_if(renamed_to, team, org),
                                                               new_name=renamed_to):
        if renamed_to and renamed_to.lower() != team.name_key:
            _ensure_free(org, renamed_to, exclude=team)
        for name, value in changes.items():
            setattr(team, name, value)
        team.name_key = team.name.lower()
        _touch(team)
        _save(team, org)
        _record("team.renamed" if set(diff) == {"name"} else "team.updated", team, diff)
    return team


def rename_team(team, name: str) -> Team:
    return update_team(team, {"name": name})


def set_parent(team, parent) -> Team:
    """Make the team a sub-team of parent (a Team or a team id), or a top-level team (None)."""
    with write_transaction():
        new = _resolve_parent(team.organisation, team, parent) if parent is not None else None
        if team.parent_id == (new.id if new else None):
            return team
        before = _name_of(team.parent_id)
        team.parent = new
        _touch(team)
        team.save()
        _record("team.parent_changed", team, {"parent": [before, new.name if new else None]})
    return team


def teams_query(org):
    """The organisation's teams, as a query the caller can filter, sort and page."""
    return Team.select().where(Team.organisation == org)


def member_ids(team) -> list[str]:
    return [user_id for (user_id,) in Membership.select(Membership.user).where(Membership.team == team).tuples()]


def members(team) -> list[tuple[str, str]]:
    """(id, userName) of the team's members, by userName (SCIM Group `members`)."""
    return list(Membership.select(User.id, User.user_name).join(User).where(Membership.team == team)
                .order_by(fn.LOWER(User.user_name), User.id).tuples())


def teams_of(user) -> list[tuple[str, str]]:
    """(id, name) of the teams the user belongs to, by name (SCIM User `groups`)."""
    return teams_of_users([user.id]).get(user.id, [])


def teams_of_users(user_ids) -> dict[str, list[tuple[str, str]]]:
    """{user id: [(team id, name), ...]} by name, for many users at once (a SCIM page of
    users): one query per BATCH ids."""
    found: dict[str, list[tuple[str, str]]] = {}
    for batch in chunked(list(user_ids), BATCH):
        query = (Membership.select(Membership.user, Team.id, Team.name).join(Team)
                 .where(Membership.user.in_(batch)).order_by(Team.name_key, Team.id).tuples())
        for user_id, team_id, name in query:
            found.setdefault(user_id, []).append((team_id, name))
    return found


def _members_if(renamed_to, team, org) -> list[str]:
    """A rename can make a team an admin group or stop it being one: then its members count."""
    keys = admin_group_keys(org)
    if renamed_to is None or (team.name_key not in keys and renamed_to.lower() not in keys):
        return []
    return member_ids(team)


def add_members(team, user_ids) -> list[str]:
    """Add users (ids) to the team; ids already members are left alone. Returns the ids added.
    Unknown ids, other organisations' users and users pending deletion are refused."""
    ids = _distinct(user_ids)
    if not ids:
        return []
    org = team.organisation
    with write_transaction(), membership_effects.admin_changes(team, org, ids):
        names = _users_named(org, ids)
        missing = set(ids) - set(names)
        if missing:
            raise MemberNotFound(missing)
        present = _members_among(team, ids)
        added = [user_id for user_id in ids if user_id not in present]
        for batch in chunked(added, BATCH):
            rows = [{"team": team.id, "user": user_id, "created_at": utcnow()} for user_id in batch]
            Membership.insert_many(rows).on_conflict_ignore().execute()
        _member_events("team.member_added", team, org, [(i, names[i]) for i in added], [None, team.name])
    return added


def remove_members(team, user_ids) -> list[str]:
    """Take users (ids) out of the team; the users themselves stay. Ids that are not members
    are ignored. Returns the ids removed."""
    ids = _distinct(user_ids)
    if not ids:
        return []
    org = team.organisation
    with write_transaction(), membership_effects.admin_changes(team, org, ids):
        present = _members_among(team, ids)
        removed = [user_id for user_id in ids if user_id in present]
        for batch in chunked(removed, BATCH):
            Membership.delete().where((Membership.team == team) & Membership.user.in_(batch)).execute()
        _member_events("team.member_removed", team, org, [(i, present[i]) for i in removed], [team.name, None])
    return removed


def replace_members(team, user_ids) -> tuple[list[str], list[str]]:
    """Make the members exactly these users (SCIM PUT). Returns (added, removed)."""
    wanted = _distinct(user_ids)
    with write_transaction():
        current = set(member_ids(team))
        added = add_members(team, [i for i in wanted if i not in current])
        removed = remove_members(team, [i for i in current if i not in set(wanted)])
    return added, removed


def delete_team(team) -> None:
    """Delete the team and its memberships; its members and sub-teams stay (sub-teams move up
    to the top level)."""
    org = team.organisation
    with write_transaction():
        members = member_ids(team)
        with membership_effects.admin_changes(team, org, members):
            children = list(Team.select(Team.id, Team.name).where(Team.parent == team).tuples())
            Team.update(parent=None, version=Team.version + 1, updated_at=utcnow()).where(Team.parent == team).execute()
            audit.record_many("team.parent_changed", organisation=org, target_type="team",
                              targets=[(child_id, name, {"parent": [team.name, None]}) for child_id, name in children])
            Membership.delete().where(Membership.team == team).execute()
            _record("team.deleted", team, {"name": [team.name, None], "members": [len(members), None]})
            team.delete_instance()


def _checked_name(name) -> str:
    check_text(Team, {"name": name})
    name = (name or "").strip()
    if not name:
        raise InvalidTeamName()
    return name


def _ensure_free(org, name: str, exclude=None) -> None:
    query = Team.select(Team.id).where((Team.organisation == org) & (Team.name_key == name.lower()))
    if exclude is not None:
        query = query.where(Team.id != exclude.id)
    if query.exists():
        raise DuplicateTeam(name)


def _resolve_parent(org, team, parent) -> Team:
    parent_id = parent.id if isinstance(parent, Team) else str(parent)
    found = Team.get_or_none((Team.id == parent_id) & (Team.organisation == org))
    if found is None:
        raise ParentTeamNotFound(parent_id)
    if hierarchy.reaches(found, Team.parent, team.id):
        raise TeamCycle(team.name, found.name)
    return found


def _distinct(user_ids) -> list[str]:
    return list(dict.fromkeys(str(user_id) for user_id in user_ids or ()))


def _users_named(org, ids) -> dict[str, str]:
    """{id: userName} for the ids that are present users of the organisation."""
    found = {}
    for batch in chunked(ids, BATCH):
        query = User.select(User.id, User.user_name).where(
            User.id.in_(batch) & (User.organisation == org) & User.pending_deletion_at.is_null())
        found.update(query.tuples())
    return found


def _members_among(team, ids) -> dict[str, str]:
    """{id: userName} for the ids that are members of the team."""
    found = {}
    for batch in chunked(ids, BATCH):
        query = (Membership.select(Membership.user, User.user_name).join(User)
                 .where((Membership.team == team) & Membership.user.in_(batch)))
        found.update(query.tuples())
    return found


def _member_events(action: str, team, org, users, change: list) -> None:
    if not users:
        return
    Team.update(version=Team.version + 1, updated_at=utcnow()).where(Team.id == team.id).execute()
    team.version += 1
    audit.record_many(action, organisation=org, target_type="user",
                      targets=[(user_id, name, {"team": change}) for user_id, name in users])


def _touch(team) -> None:
    team.version += 1
    team.updated_at = utcnow()


def _name_of(team_id) -> str | None:
    return Team.select(Team.name).where(Team.id == team_id).scalar() if team_id else None


def _record(action: str, team, changes: dict) -> None:
    audit.record(action, organisation=team.organisation_id, target_type="team", target_id=team.id,
                 target_label=team.name, changes=changes)


def _save(team, org, **kwargs) -> None:
    """Save; a concurrent writer that took the name first gives the same DuplicateTeam."""
    try:
        with database.atomic():
            team.save(**kwargs)
    except IntegrityError:
        _ensure_free(org, team.name, exclude=None if kwargs.get("force_insert") else team)
        raise
