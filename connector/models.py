"""The Ally directory's tables, as peewee models bound at run time to connector.db.database.

These classes describe the current schema for queries; the schema itself is created and changed
only by the numbered files in connector/migrations (which hold frozen copies of what they build).

Conventions:
- Ids the IdP sees are UUID strings (the SCIM `id`), generated here, never reused.
- `*_key` columns hold the lower-cased form of a case-insensitive value (userName, email, team
  name). Unique indexes sit on them; NULL releases the value (a user pending deletion).
- Timestamps are naive UTC (connector.clock.utcnow).
- `version` increases on every change of a resource and is its ETag.
"""
from __future__ import annotations

import json
import uuid

from peewee import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from connector.clock import utcnow
from connector.db import database

USER_STATUSES = ("invited", "active", "suspended")
OUTSIDE_DOMAIN_POLICIES = ("invite", "reject")
# Kinds of multi-valued attribute rows in UserValue.
VALUE_KINDS = ("emails", "phoneNumbers", "addresses", "roles", "ims", "photos", "entitlements", "x509Certificates")


def new_id() -> str:
    return str(uuid.uuid4())


def id_named(value: str) -> str:
    """The id a reference names (a member's, manager's or parent's `value`). RFC 7643 declares
    those values caseExact false, and every id is a lower-case new_id, so lower-casing the value
    once lets it meet the id columns and their indexes as they are (filters map them lowered)."""
    return value.lower()


class JSONField(TextField):
    """JSON stored as text, the same on SQLite and PostgreSQL."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Setting(BaseModel):
    """Process-independent settings generated once (for example the signing secret)."""

    key = CharField(primary_key=True, max_length=100)
    value = TextField()


class Organisation(BaseModel):
    id = AutoField()
    name = CharField(max_length=200)
    slug = CharField(max_length=64, unique=True)
    # Auto-join work domains (Admin > Settings > Signup Mode), normalised (lower-case, IDNA).
    domains = JSONField(default=list)
    outside_domains = CharField(max_length=10, default="invite")
    skip_invitations = BooleanField(default=False)
    admin_groups = JSONField(default=list)
    admin_groups_are_teams = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class User(BaseModel):
    id = CharField(primary_key=True, max_length=36, default=new_id)
    # No index of its own: the composite indexes below lead with it (migration 0007).
    organisation = ForeignKeyField(Organisation, backref="users", on_delete="CASCADE", index=False)
    user_name = CharField(max_length=320)
    user_name_key = CharField(max_length=320, null=True)  # lower(user_name); NULL once released
    email = CharField(max_length=320, null=True)  # the primary email Ally uses
    email_key = CharField(max_length=320, null=True)
    external_id = CharField(max_length=255, null=True)
    # name
    formatted_name = CharField(max_length=500, null=True)
    given_name = CharField(max_length=255, null=True)
    family_name = CharField(max_length=255, null=True)
    middle_name = CharField(max_length=255, null=True)
    honorific_prefix = CharField(max_length=64, null=True)
    honorific_suffix = CharField(max_length=64, null=True)
    display_name = CharField(max_length=500, null=True)
    nick_name = CharField(max_length=255, null=True)
    profile_url = CharField(max_length=1000, null=True)
    title = CharField(max_length=255, null=True)
    user_type = CharField(max_length=100, null=True)
    preferred_language = CharField(max_length=64, null=True)
    locale = CharField(max_length=64, null=True)
    timezone = CharField(max_length=64, null=True)
    # enterprise extension
    employee_number = CharField(max_length=100, null=True)
    cost_center = CharField(max_length=255, null=True)
    organization = CharField(max_length=255, null=True)
    division = CharField(max_length=255, null=True)
    department = CharField(max_length=255, null=True)
    manager = ForeignKeyField("self", null=True, backref="reports", on_delete="SET NULL")
    # Ally state
    status = CharField(max_length=10, default="invited")
    joined_at = DateTimeField(null=True)  # set when the user first became active
    suspended_at = DateTimeField(null=True)
    is_admin = BooleanField(default=False)  # granted by hand ("Make Admin") or roles=admin
    password_hash = CharField(max_length=255, null=True)  # Ally admin login (consent page)
    managed_by_idp = BooleanField(default=False)
    idp_seen_at = DateTimeField(null=True)  # last change made by an IdP
    pending_deletion_at = DateTimeField(null=True)
    version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class UserValue(BaseModel):
    """One value of a multi-valued User attribute (emails, phoneNumbers, addresses, roles, ...),
    in the order the IdP sent it."""

    id = BigAutoField()
    user = ForeignKeyField(User, backref="values", on_delete="CASCADE")
    kind = CharField(max_length=32)
    position = IntegerField(default=0)
    value = TextField(null=True)
    value_key = TextField(null=True)  # lower(value) for case-insensitive matching
    display = CharField(max_length=500, null=True)
    type = CharField(max_length=64, null=True)
    primary = BooleanField(default=False)
    # addresses
    formatted = TextField(null=True)
    street_address = TextField(null=True)
    locality = CharField(max_length=255, null=True)
    region = CharField(max_length=255, null=True)
    postal_code = CharField(max_length=64, null=True)
    country = CharField(max_length=64, null=True)


class Team(BaseModel):
    id = CharField(primary_key=True, max_length=36, default=new_id)
    organisation = ForeignKeyField(Organisation, backref="teams", on_delete="CASCADE")
    name = CharField(max_length=255)
    name_key = CharField(max_length=255)
    external_id = CharField(max_length=255, null=True)
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")
    managed_by_idp = BooleanField(default=False)
    version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class Membership(BaseModel):
    id = BigAutoField()
    team = ForeignKeyField(Team, backref="memberships", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)


class Objective(BaseModel):
    """An OKR objective; only its owner matters to the connector (owners cannot be deleted)."""

    id = AutoField()
    organisation = ForeignKeyField(Organisation, backref="objectives", on_delete="CASCADE")
    owner = ForeignKeyField(User, backref="objectives", on_delete="RESTRICT")
    title = CharField(max_length=500)
    created_at = DateTimeField(default=utcnow)


class Invitation(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="invitations", on_delete="CASCADE")
    token_hash = CharField(max_length=128, unique=True)
    expires_at = DateTimeField()
    accepted_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class OutboxMessage(BaseModel):
    """An email waiting to be sent. Claimed by one worker at a time (claim_token, claimed_until)."""

    id = BigAutoField()
    organisation = ForeignKeyField(Organisation, null=True, backref="outbox", on_delete="CASCADE")
    kind = CharField(max_length=32)
    recipient = CharField(max_length=320)
    subject = CharField(max_length=500)
    body = TextField()
    status = CharField(max_length=10, default="pending")  # pending | sent | failed
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    claim_token = CharField(max_length=36, null=True)
    claimed_until = DateTimeField(null=True)
    last_error = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)


class AuditEvent(BaseModel):
    id = BigAutoField()
    organisation = ForeignKeyField(Organisation, null=True, backref="audit_events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    actor = CharField(max_length=255)  # "token:<name>", "client:<name>", "admin:<email>", "cli", "join-link"
    action = CharField(max_length=64)  # e.g. user.created, user.suspended, team.member_added
    target_type = CharField(max_length=32, null=True)
    target_id = CharField(max_length=64, null=True)
    target_label = CharField(max_length=320, null=True)
    changes = JSONField(null=True)  # {"field": [before, after]}; secrets never recorded
    request_id = CharField(max_length=64, null=True)


class RateLimitCounter(BaseModel):
    """Requests counted per key in fixed windows, shared by every worker (connector.ratelimit)."""

    id = BigAutoField()
    key = CharField(max_length=200)
    window_ends_at = DateTimeField()
    count = IntegerField(default=0)


class LiveUserCount(BaseModel):
    """An organisation's users not pending deletion (connector.directory.users_query), kept by
    triggers on "user" (migration 0009); no row means none. `changes` counts the users that
    joined, left or moved in that listing, and only grows (migration 0010)."""

    organisation = ForeignKeyField(Organisation, primary_key=True, on_delete="CASCADE")
    users = IntegerField()
    changes = BigIntegerField(default=0)


class IntegrationSetting(BaseModel):
    """What the connector keeps about one IdP connection (a bearer token or an OAuth client),
    keyed by the credential's stable key ("token:<id>", "client:<client_id>")."""

    key = CharField(primary_key=True, max_length=100)
    skip_invitations = BooleanField(default=False)
    updated_at = DateTimeField(default=utcnow)


# Indexes that are not expressed as unique=True on a field: one per lookup an IdP makes.
# The unique keys lead with the key: a lookup by key reads only its own index (migration 0007).
User.add_index(User.user_name_key, User.organisation, unique=True)
User.add_index(User.email_key, User.organisation, unique=True)
User.add_index(User.organisation, User.external_id)
User.add_index(User.organisation, User.created_at, User.id)
# A page of users not pending deletion (migration 0008) reads only this index (connector.directory.users_query
# has the same predicate); its totalResults is LiveUserCount's (migration 0009).
User.add_index(User.organisation, User.created_at, User.id, User.pending_deletion_at,
               where=User.pending_deletion_at.is_null(), name="user_listing")
User.add_index(User.manager)
UserValue.add_index(UserValue.user, UserValue.kind, UserValue.position)
UserValue.add_index(UserValue.kind, UserValue.value_key)
Team.add_index(Team.organisation, Team.name_key, unique=True)
Team.add_index(Team.organisation, Team.external_id)
Team.add_index(Team.parent)
Membership.add_index(Membership.team, Membership.user, unique=True)
Membership.add_index(Membership.user)
Objective.add_index(Objective.owner)
Invitation.add_index(Invitation.user)
OutboxMessage.add_index(OutboxMessage.status, OutboxMessage.next_attempt_at)
AuditEvent.add_index(AuditEvent.organisation, AuditEvent.at)
AuditEvent.add_index(AuditEvent.organisation, AuditEvent.target_id)
RateLimitCounter.add_index(RateLimitCounter.key, RateLimitCounter.window_ends_at, unique=True)
RateLimitCounter.add_index(RateLimitCounter.window_ends_at)

ALL_MODELS = (Setting, Organisation, User, UserValue, Team, Membership, Objective, Invitation,
              OutboxMessage, AuditEvent, RateLimitCounter, IntegrationSetting, LiveUserCount)
