"""The test Group backend: teams with a membership table. Members are loaded only when the
projection wants them (one query for a whole page), and membership PATCH touches only the
members named in the request (patch.split("members"))."""
from __future__ import annotations

import uuid

from peewee import fn

from scim.backend import ListResult, ResourceRecord
from scim.errors import InvalidValue, NotFound, PreconditionFailed, Uniqueness
from tests.scim.testapp import ALLY_GROUP_URN, Person, Team, TeamMember, now


class TeamBackend:
    def __init__(self, base_url: str):
        self.base_url = base_url

    def create(self, attributes, *, projection):
        self._check_name(attributes["displayName"])
        stamp = now()
        with Team._meta.database.atomic():
            team = Team.create(public_id=str(uuid.uuid4()), created=stamp, updated=stamp, **_columns(attributes))
            _add_members(team, _ids(attributes.get("members", [])))
        return self._records([team], projection)[0]

    def get(self, resource_id, *, projection):
        return self._records([_team(resource_id)], projection)[0]

    def list(self, query):
        total, page = query.page(Team.select())
        return ListResult(total, self._records(page, query.projection))

    def replace(self, resource_id, replacement, *, expected_version, projection):
        with Team._meta.database.atomic():
            team = _team(resource_id)
            current = self._records([team], None)[0].attributes
            new = replacement.resolve(current)
            self._store(team, new, expected_version)
            TeamMember.delete().where(TeamMember.team == team).execute()
            _add_members(team, _ids(new.get("members", [])))
        return self._records([Team.get_by_id(team.id)], projection)[0]

    def patch(self, resource_id, patch, *, expected_version, projection):
        with Team._meta.database.atomic():
            team = _team(resource_id)
            change, rest = patch.split("members")
            if change is None:
                current = self._records([team], None)[0].attributes
                new = patch.apply(current)
                TeamMember.delete().where(TeamMember.team == team).execute()
                _add_members(team, _ids(new.get("members", [])))
            else:
                new = rest.apply(self._records([team], _NO_MEMBERS)[0].attributes)
                _apply_change(team, change)
            self._store(team, new, expected_version)
        return self._records([Team.get_by_id(team.id)], projection)[0]

    def delete(self, resource_id, *, expected_version):
        team = _team(resource_id)
        _check_version(team.version, expected_version)
        team.delete_instance()

    def _check_name(self, name, other_than=None):
        clash = Team.select().where(fn.LOWER(Team.display_name) == name.lower())
        if other_than is not None:
            clash = clash.where(Team.id != other_than.id)
        if clash.exists():
            raise Uniqueness(f"A group named '{name}' already exists.")

    def _store(self, team, attributes, expected_version):
        _check_version(team.version, expected_version)
        self._check_name(attributes["displayName"], other_than=team)
        changed = (Team.update(version=Team.version + 1, updated=now(), **_columns(attributes))
                   .where((Team.id == team.id) & (Team.version == team.version)).execute())
        if not changed:
            raise PreconditionFailed()

    def _records(self, teams, projection):
        members = _members_of(teams) if projection is None or projection.wants("members") else None
        return [self._record(team, members) for team in teams]

    def _record(self, team, members):
        attributes = {"displayName": team.display_name}
        if team.external_id:
            attributes["externalId"] = team.external_id
        if team.parent_id:
            attributes[ALLY_GROUP_URN] = {"parent": {"value": team.parent_id,
                                                     "$ref": f"{self.base_url}/Groups/{team.parent_id}"}}
        if members is not None and members.get(team.id):
            attributes["members"] = [
                {"value": pid, "display": display, "type": "User", "$ref": f"{self.base_url}/Users/{pid}"}
                for pid, display in members[team.id]
            ]
        return ResourceRecord(team.public_id, str(team.version), team.created, team.updated, attributes)


class _NoMembers:
    def wants(self, name):
        return name != "members"


_NO_MEMBERS = _NoMembers()


def _members_of(teams) -> dict:
    """Every member of every team on the page in one query."""
    out = {}
    if not teams:
        return out
    rows = (TeamMember.select(TeamMember.team, Person.public_id, Person.display_name)
            .join(Person).where(TeamMember.team.in_([t.id for t in teams])).order_by(TeamMember.id).tuples())
    for team_id, public_id, display in rows:
        out.setdefault(team_id, []).append((public_id, display))
    return out


def _columns(attributes):
    parent = (attributes.get(ALLY_GROUP_URN) or {}).get("parent") or {}
    return {"display_name": attributes["displayName"], "external_id": attributes.get("externalId"),
            "parent_id": parent.get("value")}


def _ids(members) -> list:
    """Member ids in the order given, each once."""
    return list(dict.fromkeys(m["value"] for m in members))


def _person_ids(public_ids) -> dict:
    found = dict(Person.select(Person.public_id, Person.id).where(Person.public_id.in_(list(public_ids))).tuples())
    missing = sorted(set(public_ids) - set(found))
    if missing:
        raise InvalidValue(f"Members must be users; no user with id {', '.join(missing)}.")
    return found


def _add_members(team, public_ids) -> None:
    if public_ids:
        found = _person_ids(public_ids)
        rows = [{"team": team.id, "person": found[pid]} for pid in public_ids]
        TeamMember.insert_many(rows).on_conflict_ignore().execute()


def _apply_change(team, change) -> None:
    if change.replace_all is not None:
        TeamMember.delete().where(TeamMember.team == team).execute()
        _add_members(team, change.replace_all)
    if change.remove:
        gone = Person.select(Person.id).where(Person.public_id.in_(list(change.remove)))
        TeamMember.delete().where((TeamMember.team == team) & (TeamMember.person.in_(gone))).execute()
    _add_members(team, change.add)


def _team(resource_id):
    team = Team.get_or_none(Team.public_id == resource_id)
    if team is None:
        raise NotFound(f"No Group with id '{resource_id}'.")
    return team


def _check_version(current, expected):
    if expected is not None and expected != str(current):
        raise PreconditionFailed(f"The resource's current version is W/\"{current}\", not W/\"{expected}\".")
