"""SCIM Groups are Ally teams (DESIGN.md §3): the Group resource type and its backend over
connector.teams, the one place every team rule lives.

- `displayName` is the team name (unique per organisation, case-insensitively: 409
  uniqueness), `externalId` is kept as sent, `members` are users of the same organisation
  (`type` "User", `display` their displayName or userName, `$ref` their /Users URL); a member
  that is not one is refused (400 invalidValue naming it), never dropped. A member's or the
  parent's `value` names its id in any case (caseExact false: models.id_named), in writes and
  filters alike.
- The parent team travels in the Ally Group extension (`parent.value` = the parent group's id).
- Members are read only when the response shows them: a list with
  excludedAttributes=members and every PATCH answer (the protocol's default for the heavy
  `members`) read none, and a membership PATCH costs the ids it names (Patch.split).
- If-Match is a compare-and-set on the team's version, inside the teams service.
- A write PostgreSQL aborts for a deadlock or serialization failure is run again from the
  start (db.retry_on_conflict).
"""
from __future__ import annotations

from flask import g

from connector import memberships, scim_errors, teams
from connector.db import retry_on_conflict, write_transaction
from connector.models import Membership, Team, id_named
from scim.backend import ListResult, ResourceRecord
from scim.core_schemas import GROUP
from scim.errors import PreconditionFailed
from scim.filter import Child, Column
from scim.resources import Extension, ResourceType, ScimConfig
from scim.schemas import Attribute, Schema

ALLY_GROUP_URN = "urn:ietf:params:scim:schemas:extension:ally:2.0:Group"
ALLY_GROUP = Schema(
    id=ALLY_GROUP_URN, name="AllyGroup", description="Ally team hierarchy: the team this group is a sub-team of",
    attributes=(
        Attribute("parent", type="complex", description="The parent team; absent for a top-level team.",
                  sub_attributes=(
                      Attribute("value", description="The id of the parent group."),
                      Attribute("display", mutability="readOnly", description="The parent group's displayName."),
                      Attribute("$ref", type="reference", reference_types=("Group",), mutability="readOnly",
                                description="The URI of the parent group."),
                  )),
    ))
PARENT = f"{ALLY_GROUP_URN}:parent"

FILTER_MAP = {
    "id": Column(Team.id),
    "displayName": Column(Team.name_key, lowered=True),
    "externalId": Column(Team.external_id),
    "meta.created": Column(Team.created_at),
    "meta.lastModified": Column(Team.updated_at),
    # `members eq "u"` (Entra's reference check) and members.value: over the memberships; an eq
    # reads the membership index for that user (scim.filter_map.Child).
    "members": Child(Membership, Membership.team == Team.id, columns={"value": Column(Membership.user, lowered=True)}),
    f"{PARENT}.value": Column(Team.parent, lowered=True),
}


def resource_type(config: ScimConfig) -> ResourceType:
    """The Group resource type; members' and parents' $ref under config.base_url."""
    return ResourceType(
        name="Group", endpoint="/Groups", schema=GROUP, backend=GroupBackend(config.base_url),
        extensions=(Extension(ALLY_GROUP),), filter_map=FILTER_MAP, default_order=(Team.created_at, Team.id),
        heavy_attributes=("members",), description="Ally teams (and admin groups)")


class GroupBackend:
    """scim.backend.ResourceBackend over connector.teams, for the request's organisation."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    @retry_on_conflict
    def create(self, attributes, *, projection):
        with scim_errors.translated():
            team = teams.create_team(g.organisation, attributes["displayName"], parent=_parent_id(attributes),
                                     external_id=attributes.get("externalId"), managed_by_idp=True,
                                     members=_member_ids(attributes))
        return self._records([team], projection)[0]

    def get(self, resource_id, *, projection):
        return self._records([_team(resource_id)], projection)[0]

    def list(self, query):
        total, page = query.page(teams.teams_query(g.organisation))
        return ListResult(total, self._records(page, query.projection))

    @retry_on_conflict
    def replace(self, resource_id, replacement, *, expected_version, projection):
        """RFC 7644 §3.5.1: members become exactly the list sent (none when absent)."""
        with write_transaction(), scim_errors.translated():
            team = _team(resource_id, lock=True)
            new = replacement.resolve(self._attributes(team, {}, {}))
            teams.change_team(team, changes=_columns(new), parent=_parent_id(new), members=_member_ids(new),
                              expected_version=_expected(expected_version))
        return self._records([_team(resource_id)], projection)[0]

    @retry_on_conflict
    def patch(self, resource_id, patch, *, expected_version, projection):
        """RFC 7644 §3.5.2; member operations as id sets, so their cost is the ids named."""
        with write_transaction(), scim_errors.translated():
            team = _team(resource_id, lock=True)
            change, rest = patch.split("members")
            if change is None:  # a member operation that is not about ids alone: load them
                new = patch.apply(self._attributes(team, memberships.members_of([team.id]), {}))
                members = {"members": _member_ids(new)}
            else:
                new = rest.apply(self._attributes(team, {}, {}))
                members = _member_sets(change)
            teams.change_team(team, changes=_columns(new), parent=_parent_id(new), **members,
                              expected_version=_expected(expected_version))
        return self._records([_team(resource_id)], projection)[0]

    @retry_on_conflict
    def delete(self, resource_id, *, expected_version):
        """RFC 7644 §3.6: the team and its memberships go; its users stay."""
        with write_transaction(), scim_errors.translated():
            teams.delete_team(_team(resource_id, lock=True), expected_version=_expected(expected_version))

    def _records(self, page, projection) -> list[ResourceRecord]:
        """One query for the page's members (only when shown) and one for its parents' names."""
        members = memberships.members_of([team.id for team in page]) if projection.wants("members") else {}
        parents = memberships.names_of([team.parent_id for team in page]) if projection.wants(PARENT) else {}
        return [ResourceRecord(team.id, str(team.version), team.created_at, team.updated_at,
                               self._attributes(team, members, parents)) for team in page]

    def _attributes(self, team, members: dict, parents: dict) -> dict:
        attributes = {"displayName": team.name}
        if team.external_id:
            attributes["externalId"] = team.external_id
        if members.get(team.id):
            attributes["members"] = [self._member(*member) for member in members[team.id]]
        if team.parent_id:
            parent = {"value": team.parent_id, "display": parents.get(team.parent_id),
                      "$ref": f"{self.base_url}/Groups/{team.parent_id}"}
            attributes[ALLY_GROUP_URN] = {"parent": {k: v for k, v in parent.items() if v is not None}}
        return attributes

    def _member(self, user_id: str, user_name: str, display_name: str | None) -> dict:
        return {"value": user_id, "display": display_name or user_name, "type": "User",
                "$ref": f"{self.base_url}/Users/{user_id}"}


def _team(resource_id: str, *, lock: bool = False):
    with scim_errors.translated():
        team = teams.get_team(g.organisation, resource_id, lock=lock)
    team.organisation = g.organisation  # the request's own, already loaded
    return team


def _columns(attributes: dict) -> dict:
    """The team's columns from a Group's attributes; an IdP writing to it now manages it."""
    return {"name": attributes["displayName"], "external_id": attributes.get("externalId"), "managed_by_idp": True}


def _parent_id(attributes: dict) -> str | None:
    parent = (attributes.get(ALLY_GROUP_URN) or {}).get("parent") or {}
    return id_named(parent["value"]) if parent.get("value") else None


def _member_ids(attributes: dict) -> list[str]:
    """The user ids the members name (see the module doc)."""
    return [id_named(member["value"]) for member in attributes.get("members") or ()]


def _member_sets(change) -> dict:
    """scim.patch_members' MemberChange as change_team's arguments: replace_all (then remove,
    then add) is the complete new set; otherwise remove and add alone."""
    add, remove = _user_ids(change.add), _user_ids(change.remove)
    if change.replace_all is not None:
        return {"members": sorted((_user_ids(change.replace_all) - remove) | add)}
    return {"add": sorted(add), "remove": sorted(remove)}


def _user_ids(values) -> set[str]:
    """Members' values (strings: scim.validation) as the user ids they name (see the module doc)."""
    return {id_named(value) for value in values}


def _expected(version: str | None) -> int | None:
    """If-Match's version as the team's integer version (RFC 7644 §3.14)."""
    if version is None:
        return None
    if not version.isdigit():
        raise PreconditionFailed(f"If-Match names the version {version!r}, which this group never had.")
    return int(version)
