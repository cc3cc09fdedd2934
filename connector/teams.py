"""Teams: names unique per organisation (case-insensitively), a hierarchy of teams and
sub-teams with no cycles, and memberships. Removing a member removes them from the team only;
deleting a team deletes the team and its memberships, never the users (DESIGN.md §3).

Every change goes through `change_team`: one transaction and one write of the team's row,
whose `version = version + 1` is computed in SQL (two writers never lose a bump) and, when the
caller holds a version (SCIM If-Match), guarded by `WHERE version = expected` (StaleVersion).
Membership changes cost in proportion to the user ids given, never to the team's size: a
50,000-member team is never loaded to add or remove one member.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from peewee import IntegrityError

from connector import audit, hierarchy, membership_effects, memberships
from connector.admins import admin_group_keys
from connector.clock import utcnow
from connector.db import is_postgres, locked_for_share, reads_after_refusal, write_transaction
from connector.errors import DuplicateTeam, InvalidTeamName, NotFound, ParentTeamNotFound, StaleVersion, TeamCycle, \
    UnknownField
from connector.limits import check_text
from connector.models import Membership, Team
CHANGEABLE = frozenset({"name", "external_id", "managed_by_idp"})
KEEP = object()  # change_team(parent=KEEP): the parent stays as it is


@dataclass
class TeamChange:
    """What one change_team call did: changed columns as {column: [before, after]} (the parent
    by name), and the user ids added and removed."""

    fields: dict = field(default_factory=dict)
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.added or self.removed)


def get_team(org, team_id: str, *, lock: bool = False) -> Team:
    """The team with this id in this organisation. lock=True, inside a write transaction,
    keeps the row locked until it ends on PostgreSQL (SELECT ... FOR UPDATE), so concurrent
    changes of one team queue (SQLite's write transactions lock already)."""
    query = Team.select().where((Team.id == str(team_id)) & (Team.organisation == org))
    team = (query.for_update() if lock and is_postgres() else query).first()
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


def create_team(org, name: str, *, parent=None, external_id: str | None = None, managed_by_idp: bool = False,
                members=()) -> Team:
    """A new team (a sub-team of parent: a Team or a team id), with these users (ids) as members."""
    name = _checked_name(name)
    check_text(Team, {"external_id": external_id})
    with write_transaction():
        _ensure_free(org, name)
        team = Team(organisation=org, name=name, name_key=name.lower(), external_id=external_id,
                    managed_by_idp=managed_by_idp)
        if parent is not None:
            team.parent = _resolve_parent(org, team, parent)
        _insert(team, org)
        _record("team.created", team, {"name": [None, name], "parent": [None, _name_of(team.parent_id)]})
        ids = memberships.distinct(members)
        with membership_effects.admin_changes(team, org, ids):
            memberships.record_events("team.member_added", team, org, memberships.insert(team, org, ids),
                                      [None, team.name])
    return team


def change_team(team, *, changes: dict | None = None, parent=KEEP, members=None, add=(), remove=(),
                expected_version: int | None = None) -> TeamChange:
    """Change the team in one transaction: `changes` to name, external_id or managed_by_idp
    (unchanged values change nothing); `parent` a Team, a team id or None (top level); members
    either `members`, the complete new set (its current ids are read to compare), or `remove`
    then `add` (costing only these ids; present or absent ids are no error). With
    expected_version the change happens only if the team is still at that version."""
    fields = _field_changes(team, changes or {})
    org = team.organisation
    with write_transaction():
        if members is not None:
            add, remove = memberships.difference(team, members)
        add, remove = memberships.distinct(add), memberships.distinct(remove)
        remove = [user_id for user_id in remove if user_id not in set(add)]
        new_name = fields["name"][1] if "name" in fields else None
        if new_name is not None and new_name.lower() != team.name_key:
            _ensure_free(org, new_name, exclude=team)
        new_parent = _parent_change(team, org, parent)
        concerned = [*add, *remove, *_members_if(new_name, team, org)]
        with membership_effects.admin_changes(team, org, concerned, new_name=new_name):
            added, removed = memberships.insert(team, org, add), memberships.delete(team, remove)
            result = TeamChange(fields=fields, added=list(added), removed=list(removed))
            if new_parent is not KEEP:
                result.fields["parent"] = [_name_of(team.parent_id), new_parent.name if new_parent else None]
            _write(team, org, result, new_parent, expected_version)
            memberships.record_events("team.member_added", team, org, added, [None, team.name])
            memberships.record_events("team.member_removed", team, org, removed, [team.name, None])
    return result


def update_team(team, changes: dict, *, expected_version: int | None = None) -> Team:
    """Rename the team or change its externalId; unchanged values change nothing."""
    change_team(team, changes=changes, expected_version=expected_version)
    return team


def rename_team(team, name: str) -> Team:
    return update_team(team, {"name": name})


def set_parent(team, parent) -> Team:
    """Make the team a sub-team of parent (a Team or a team id), or a top-level team (None)."""
    change_team(team, parent=parent)
    return team


def add_members(team, user_ids) -> list[str]:
    """Add users (ids) to the team; ids already members are left alone. Returns the ids added.
    Unknown ids, other organisations' users and users pending deletion are refused."""
    return change_team(team, add=user_ids).added if user_ids else []


def remove_members(team, user_ids) -> list[str]:
    """Take users (ids) out of the team; the users themselves stay. Ids that are not members
    are ignored. Returns the ids removed."""
    return change_team(team, remove=user_ids).removed if user_ids else []


def replace_members(team, user_ids) -> tuple[list[str], list[str]]:
    """Make the members exactly these users (SCIM PUT). Returns (added, removed)."""
    change = change_team(team, members=user_ids)
    return change.added, change.removed


def delete_team(team, *, expected_version: int | None = None) -> None:
    """Delete the team and its memberships; its members and sub-teams stay (sub-teams move up
    to the top level)."""
    org = team.organisation
    with write_transaction():
        if expected_version is not None:
            _bump(team, expected_version)
        member_list = memberships.member_ids(team)
        with membership_effects.admin_changes(team, org, member_list):
            children = list(Team.select(Team.id, Team.name).where(Team.parent == team).tuples())
            Team.update(parent=None, version=Team.version + 1, updated_at=utcnow()).where(Team.parent == team).execute()
            audit.record_many("team.parent_changed", organisation=org, target_type="team",
                              targets=[(child_id, name, {"parent": [team.name, None]}) for child_id, name in children])
            Membership.delete().where(Membership.team == team).execute()
            _record("team.deleted", team, {"name": [team.name, None], "members": [len(member_list), None]})
            team.delete_instance()


def teams_query(org):
    """The organisation's teams, as a query the caller can filter, sort and page."""
    return Team.select().where(Team.organisation == org)


def _field_changes(team, changes: dict) -> dict:
    if set(changes) - CHANGEABLE:
        raise UnknownField(set(changes) - CHANGEABLE)
    check_text(Team, changes)
    if "name" in changes:
        changes = {**changes, "name": _checked_name(changes["name"])}
    return audit.diff({name: getattr(team, name) for name in changes}, changes)


def _parent_change(team, org, parent):
    """The new parent Team (None: top level), or KEEP when it stays the same."""
    if parent is KEEP:
        return KEEP
    new = _resolve_parent(org, team, parent) if parent is not None else None
    return KEEP if team.parent_id == (new.id if new else None) else new


def _members_if(renamed_to, team, org) -> list[str]:
    """A rename can make a team an admin group or stop it being one: then its members count."""
    keys = admin_group_keys(org)
    if renamed_to is None or (team.name_key not in keys and renamed_to.lower() not in keys):
        return []
    return memberships.member_ids(team)


def _write(team, org, change: TeamChange, new_parent, expected_version) -> None:
    """The one write of the team's row for a change (or only the version check, if nothing
    changed), then the audit events of its fields."""
    if not change.changed:
        check_version(team, expected_version)
        return
    columns = {name: after for name, (_, after) in change.fields.items() if name in CHANGEABLE}
    if "name" in columns:
        columns["name_key"] = columns["name"].lower()
    if new_parent is not KEEP:
        columns["parent"] = new_parent.id if new_parent else None
    if "name" in columns:
        _renaming_bump(team, org, expected_version, columns)
    else:
        _bump(team, expected_version, **columns)
    for name, value in columns.items():
        setattr(team, name, value)
    _record_fields(team, change.fields)


def _renaming_bump(team, org, expected_version, columns) -> None:
    """_bump with a new name: a concurrent writer that took the name first gives DuplicateTeam."""
    try:
        with reads_after_refusal():
            _bump(team, expected_version, **columns)
    except IntegrityError:
        _ensure_free(org, columns["name"], exclude=team)
        raise


def _bump(team, expected_version: int | None, **columns) -> None:
    """UPDATE team SET <columns>, version = version + 1 [WHERE version = expected]."""
    now = utcnow()
    query = Team.update(version=Team.version + 1, updated_at=now, **columns).where(Team.id == team.id)
    if expected_version is not None:
        query = query.where(Team.version == expected_version)
    if not query.execute():
        check_version(team, expected_version)
        raise NotFound(f"No team with the id {team.id!r} in this organisation")
    team.version = (team.version if expected_version is None else expected_version) + 1
    team.updated_at = now


def check_version(team, expected_version: int | None) -> None:
    """StaleVersion unless the stored team is at expected_version (None: no condition)."""
    if expected_version is None:
        return
    current = Team.select(Team.version).where(Team.id == team.id).scalar()
    if current is None:
        raise NotFound(f"No team with the id {team.id!r} in this organisation")
    if current != expected_version:
        raise StaleVersion(f"The team {team.name!r}", expected_version)


def _record_fields(team, fields: dict) -> None:
    own = {name: value for name, value in fields.items() if name != "parent"}
    if own:
        _record("team.renamed" if set(own) == {"name"} else "team.updated", team, own)
    if "parent" in fields:
        _record("team.parent_changed", team, {"parent": fields["parent"]})


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
    found = locked_for_share(Team.select().where((Team.id == parent_id) & (Team.organisation == org))).first()
    if found is None:
        raise ParentTeamNotFound(parent_id)
    if hierarchy.reaches(found, Team.parent, team.id):
        raise TeamCycle(team.name, found.name)
    return found


def _name_of(team_id) -> str | None:
    return Team.select(Team.name).where(Team.id == team_id).scalar() if team_id else None


def _record(action: str, team, changes: dict) -> None:
    audit.record(action, organisation=team.organisation_id, target_type="team", target_id=team.id,
                 target_label=team.name, changes=changes)


def _insert(team, org) -> None:
    """Insert; a concurrent writer that took the name first gives the same DuplicateTeam."""
    try:
        with reads_after_refusal():
            team.save(force_insert=True)
    except IntegrityError:
        _ensure_free(org, team.name)
        raise


# The membership readers (connector.memberships), also here for callers that think in teams.
member_ids, members, members_of = memberships.member_ids, memberships.members, memberships.members_of
teams_of, teams_of_users = memberships.teams_of, memberships.teams_of_users
