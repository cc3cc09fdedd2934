"""A real SCIM test application: tiny peewee models (a resource table, a values child table, a
membership table) and ResourceBackends over them, registered with scim.init_app on a bare
Flask app. It is a test fixture, not a mock: every request runs the real protocol code
against SQLite or PostgreSQL.

It is also the smallest example of the interfaces connector/scim_users.py and
connector/scim_groups.py implement: filter maps as data, CAS on version, one query per list
(no query per row), members loaded only when the projection wants them, membership PATCH
through `patch.split("members")`.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime

from flask import Flask
from peewee import (SQL, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model,
                    TextField, fn)

import scim
from scim.backend import ListResult, ResourceRecord
from scim.core_schemas import ENTERPRISE_USER, ENTERPRISE_USER_URN, GROUP, USER
from scim.errors import NotFound, PreconditionFailed, Uniqueness
from scim.filter import Child, Column
from scim.resources import Extension, ResourceType, ScimConfig
from scim.schemas import Attribute, Schema

ALLY_USER_URN = "urn:ally:params:scim:schemas:extension:ally:2.0:User"
ALLY_GROUP_URN = "urn:ally:params:scim:schemas:extension:ally:2.0:Group"
ALLY_USER = Schema(ALLY_USER_URN, "AllyUser", (
    Attribute("status", mutability="readOnly", canonical_values=("invited", "active", "suspended"),
              description="The user's Ally status."),
    Attribute("badge", mutability="immutable", description="Set once, never changed."),
), description="Ally user extension")
ALLY_GROUP = Schema(ALLY_GROUP_URN, "AllyGroup", (
    Attribute("parent", type="complex", description="The parent team.", sub_attributes=(
        Attribute("value", description="The parent group's id."),
        Attribute("$ref", type="reference", reference_types=("Group",), mutability="readOnly"),
    )),
), description="Ally group extension")
MULTI_KINDS = ("emails", "phoneNumbers", "roles")


class Person(Model):
    public_id = CharField(unique=True)
    user_name = CharField()
    user_name_key = CharField(unique=True)
    external_id = CharField(null=True)
    display_name = CharField(null=True)
    given_name = CharField(null=True)
    family_name = CharField(null=True)
    title = CharField(null=True)
    user_type = CharField(null=True)
    active = BooleanField(null=True)
    employee_number = CharField(null=True)
    manager_id = CharField(null=True)
    im_value = CharField(null=True)
    im_type = CharField(null=True)
    document = TextField()
    version = IntegerField(default=1)
    created = DateTimeField()
    updated = DateTimeField()

    class Meta:
        table_name = "scimtest_person"


class PersonValue(Model):
    person = ForeignKeyField(Person, backref="values", on_delete="CASCADE")
    kind = CharField()
    value = CharField(null=True)
    type = CharField(null=True)
    primary = BooleanField(null=True)

    class Meta:
        table_name = "scimtest_person_value"


class Team(Model):
    public_id = CharField(unique=True)
    display_name = CharField()
    external_id = CharField(null=True)
    parent_id = CharField(null=True)
    version = IntegerField(default=1)
    created = DateTimeField()
    updated = DateTimeField()

    class Meta:
        table_name = "scimtest_team"


class TeamMember(Model):
    team = ForeignKeyField(Team, on_delete="CASCADE")
    person = ForeignKeyField(Person, on_delete="CASCADE")

    class Meta:
        table_name = "scimtest_team_member"
        indexes = ((("team", "person"), True),)


MODELS = (Person, PersonValue, Team, TeamMember)
clock = {"now": None}


def now() -> datetime:
    """Naive UTC; tests may pin it with clock["now"]."""
    return clock["now"] or datetime.utcnow().replace(microsecond=0)


PERSON_FILTER_MAP = {
    "id": Column(Person.public_id),
    "userName": Column(Person.user_name_key, lowered=True),
    "externalId": Column(Person.external_id),
    "displayName": Column(Person.display_name),
    "name.givenName": Column(Person.given_name),
    "name.familyName": Column(Person.family_name),
    "title": Column(Person.title),
    "userType": Column(Person.user_type),
    "active": Column(Person.active),
    "meta.created": Column(Person.created),
    "meta.lastModified": Column(Person.updated),
    f"{ENTERPRISE_USER_URN}:employeeNumber": Column(Person.employee_number),
    f"{ENTERPRISE_USER_URN}:manager.value": Column(Person.manager_id),
    # ims keeps its first value in the person's row: the map's single-value form, no child table.
    "ims.value": Column(Person.im_value),
    "ims.type": Column(Person.im_type),
    **{
        kind: Child(PersonValue, PersonValue.person == Person.id, scope=PersonValue.kind == kind,
                    columns={"value": Column(PersonValue.value), "type": Column(PersonValue.type),
                             "primary": Column(PersonValue.primary)})
        for kind in MULTI_KINDS
    },
}


class PersonBackend:
    """Users: the SCIM document is kept whole; filterable attributes are copied to columns;
    the read-only `groups` comes from the membership table (one query per page)."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def create(self, attributes, *, projection):
        if Person.select().where(Person.user_name_key == attributes["userName"].lower()).exists():
            raise Uniqueness(f"The userName '{attributes['userName']}' is already in use.")
        stamp = now()
        with Person._meta.database.atomic():
            person = Person.create(public_id=str(uuid.uuid4()), created=stamp, updated=stamp, **_columns(attributes))
            _write_values(person, attributes)
        return self._records([person], projection)[0]

    def get(self, resource_id, *, projection):
        if resource_id == "explode":
            raise RuntimeError("database password is hunter2")
        return self._records([_person(resource_id)], projection)[0]

    def list(self, query):
        total, page = query.page(Person.select())
        return ListResult(total, self._records(page, query.projection))

    def replace(self, resource_id, replacement, *, expected_version, projection):
        with Person._meta.database.atomic():
            person = _person(resource_id)
            current = json.loads(person.document)
            new = replacement.resolve(current)
            keep = {k: v for k, v in current.items() if k == "password" and "password" not in new}
            return self._store(person, {**new, **keep}, expected_version, projection)

    def patch(self, resource_id, patch, *, expected_version, projection):
        with Person._meta.database.atomic():
            person = _person(resource_id)
            return self._store(person, patch.apply(json.loads(person.document)), expected_version, projection)

    def delete(self, resource_id, *, expected_version):
        person = _person(resource_id)
        _check_version(person.version, expected_version)
        person.delete_instance()

    def _store(self, person, attributes, expected_version, projection):
        _check_version(person.version, expected_version)
        clash = Person.select().where((Person.user_name_key == attributes["userName"].lower()) & (Person.id != person.id))
        if clash.exists():
            raise Uniqueness(f"The userName '{attributes['userName']}' is already in use.")
        changed = (Person.update(version=Person.version + 1, updated=now(), **_columns(attributes))
                   .where((Person.id == person.id) & (Person.version == person.version)).execute())
        if not changed:
            raise PreconditionFailed()
        PersonValue.delete().where(PersonValue.person == person).execute()
        _write_values(person, attributes)
        return self._records([Person.get_by_id(person.id)], projection)[0]

    def _records(self, persons, projection):
        groups = self._groups_of(persons) if projection.wants("groups") else {}
        return [_person_record(p, groups.get(p.id)) for p in persons]

    def _groups_of(self, persons) -> dict:
        out = {}
        if not persons:
            return out
        rows = (TeamMember.select(TeamMember.person, Team.public_id, Team.display_name).join(Team)
                .where(TeamMember.person.in_([p.id for p in persons])).order_by(TeamMember.id).tuples())
        for person_id, public_id, name in rows:
            out.setdefault(person_id, []).append(
                {"value": public_id, "$ref": f"{self.base_url}/Groups/{public_id}", "display": name, "type": "direct"})
        return out


def _check_version(current: int, expected: str | None) -> None:
    if expected is not None and expected != str(current):
        raise PreconditionFailed(f"The resource's current version is W/\"{current}\", not W/\"{expected}\".")


def _person(resource_id: str) -> Person:
    person = Person.get_or_none(Person.public_id == resource_id)
    if person is None:
        raise NotFound(f"No User with id '{resource_id}'.")
    return person


def _columns(attributes: dict) -> dict:
    enterprise = attributes.get(ENTERPRISE_USER_URN, {})
    name = attributes.get("name", {})
    return {
        "user_name": attributes["userName"], "user_name_key": attributes["userName"].lower(),
        "external_id": attributes.get("externalId"), "display_name": attributes.get("displayName"),
        "given_name": name.get("givenName"), "family_name": name.get("familyName"),
        "title": attributes.get("title"), "user_type": attributes.get("userType"), "active": attributes.get("active"),
        "employee_number": enterprise.get("employeeNumber"),
        "manager_id": (enterprise.get("manager") or {}).get("value"),
        "im_value": (attributes.get("ims") or [{}])[0].get("value"),
        "im_type": (attributes.get("ims") or [{}])[0].get("type"),
        "document": json.dumps(attributes),
    }


def _write_values(person: Person, attributes: dict) -> None:
    rows = [
        {"person": person.id, "kind": kind, "value": item.get("value"), "type": item.get("type"),
         "primary": item.get("primary")}
        for kind in MULTI_KINDS for item in attributes.get(kind, [])
    ]
    if rows:
        PersonValue.insert_many(rows).execute()


def _person_record(person: Person, groups=None) -> ResourceRecord:
    attributes = json.loads(person.document)
    if groups:
        attributes["groups"] = groups
    attributes[ALLY_USER_URN] = {**attributes.get(ALLY_USER_URN, {}), "status": "active"}
    return ResourceRecord(person.public_id, str(person.version), person.created, person.updated, attributes)


def _members_child() -> Child:
    member = Person.alias("member")
    return Child(
        source=lambda: TeamMember.select(SQL("1")).join(member, on=(TeamMember.person == member.id)),
        link=TeamMember.team == Team.id,
        columns={"value": Column(member.public_id), "display": Column(member.display_name)},
    )


TEAM_FILTER_MAP = {
    "id": Column(Team.public_id),
    "displayName": Column(Team.display_name),
    "externalId": Column(Team.external_id),
    "meta.created": Column(Team.created),
    "meta.lastModified": Column(Team.updated),
    "members": _members_child(),
    f"{ALLY_GROUP_URN}:parent.value": Column(Team.parent_id),
}


def make_app(database, *, base_url="https://scim.test/scim/v2", max_body=4096, **config) -> Flask:
    from tests.scim.testgroups import TeamBackend

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_body
    users = ResourceType(
        name="User", endpoint="/Users", schema=USER, backend=PersonBackend(base_url),
        extensions=(Extension(ENTERPRISE_USER), Extension(ALLY_USER)),
        filter_map=PERSON_FILTER_MAP, default_order=(Person.id,), description="User Account")
    groups = ResourceType(
        name="Group", endpoint="/Groups", schema=GROUP, backend=TeamBackend(base_url),
        extensions=(Extension(ALLY_GROUP),), filter_map=TEAM_FILTER_MAP, default_order=(Team.id,),
        heavy_attributes=("members",), description="Group")
    scim.init_app(app, resource_types=[users, groups], config=ScimConfig(base_url=base_url, **config))

    @app.get("/not-scim/boom")
    def boom():
        raise RuntimeError("outside SCIM")

    return app


def count_members() -> int:
    return TeamMember.select(fn.COUNT(SQL("*"))).scalar()
