"""SCIM Users are Ally users (DESIGN.md §3): the User resource type and its backend.

Every change goes through the directory service (connector.directory, managers, admins,
deletion), inside one write transaction per request, so a failing PATCH operation changes
nothing; a transaction PostgreSQL aborts for a deadlock or serialization failure is run
again from the start (db.retry_on_conflict). A request compares the user before and after
(connector.user_mapping) and asks the directory only for what differs: Entra's periodic
`active: "True"` on an active user changes nothing, not even the version. Reads take a fixed
number of queries per page: the users, then the page's multi-valued values and teams in one
query (user_values.rows_and_teams_for), and its managers' names in one more.
"""
from __future__ import annotations

from dataclasses import replace

from flask import g
from peewee import OP, SQL, Expression, NodeList

from scim.backend import ListResult, ResourceRecord
from scim.core_schemas import ENTERPRISE_USER, ENTERPRISE_USER_URN, USER
from scim.filter_map import Child, Column
from scim.resources import Extension, ResourceType, ScimConfig
from scim.schemas import Attribute, Schema

from connector import (admins, deletion, directory, index_order, integrations, listing_positions, managers, teams,
                       user_changes, user_values)
from connector.db import cached_select, retry_on_conflict, where_shape, write_transaction
from connector.listing_positions import LISTING_ORDER
from connector.models import USER_STATUSES, VALUE_KINDS, Membership, Team, User, UserValue
from connector.scim_errors import translated
from connector.user_mapping import (ALLY_USER_URN, CORE_FIELDS, ENTERPRISE_FIELDS, NAME_FIELDS, VALUE_FIELDS,
                                    UserState, from_scim, to_scim)

ALLY_USER = Schema(ALLY_USER_URN, "AllyUser", (
    Attribute("status", mutability="readOnly", canonical_values=USER_STATUSES,
              description="The user's Ally status: invited (invitation sent, not joined yet), active or suspended."),
), description="Ally user")
MANAGER_PATH = f"{ENTERPRISE_USER_URN}:manager"


def resource_type(config: ScimConfig) -> ResourceType:
    return ResourceType(
        name="User", endpoint="/Users", schema=USER, backend=UserBackend(config.base_url),
        extensions=(Extension(ENTERPRISE_USER), Extension(ALLY_USER)), filter_map=filter_map(),
        default_order=LISTING_ORDER, description="User Account")


def filter_map() -> dict:
    """Where filters and sortBy find each attribute (scim.filter_map). userName and emails are
    caseExact=false (RFC 7643 §4.1.1): matched on the lower-cased *_key columns."""
    Manager = User.alias("manager")
    columns = {
        "id": Column(User.id),
        "userName": Column(User.user_name_key, lowered=True),
        "active": Column(User.status != "suspended"),
        "meta.created": Column(User.created_at),
        "meta.lastModified": Column(User.updated_at),
        f"{ALLY_USER_URN}:status": Column(User.status),
        f"{MANAGER_PATH}.value": Column(User.manager, lowered=True),  # ids are lower-case (models.id_named)
        f"{MANAGER_PATH}.displayName": Column(NodeList(
            (Manager.select(Manager.display_name).where(Manager.id == User.manager),), parens=True)),
        "groups": Child(lambda: Membership.select(SQL("1")).join(Team), Membership.user == User.id,
                        columns={"value": Column(Team.id, lowered=True), "display": Column(Team.name_key, lowered=True)}),
    }
    columns.update({attr: Column(getattr(User, column)) for attr, column in CORE_FIELDS.items() if attr != "userName"})
    columns.update({f"name.{attr}": Column(getattr(User, column)) for attr, column in NAME_FIELDS.items()})
    columns.update({f"{ENTERPRISE_USER_URN}:{attr}": Column(getattr(User, column))
                    for attr, column in ENTERPRISE_FIELDS.items()})
    columns.update({kind: _values_child(kind) for kind in VALUE_KINDS})
    return columns


def _values_child(kind: str) -> Child:
    subs = USER.attribute(kind).sub_attributes
    columns = {sub.name: Column(getattr(UserValue, VALUE_FIELDS[sub.name])) for sub in subs if sub.name != "value"}
    if USER.attribute(kind).sub("value") is not None:
        columns["value"] = Column(UserValue.value_key, lowered=True)
    return Child(UserValue, UserValue.user == User.id, columns=columns, scope=UserValue.kind == kind)


class UserBackend:
    """scim.backend.ResourceBackend for Users, in the organisation of the request's credential."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    @retry_on_conflict
    def create(self, attributes, *, projection):
        """RFC 7644 §3.3: auto-join, invitation or refusal as the directory decides (no
        invitation email when the organisation or this IdP connection skips them); the
        password is never stored."""
        state = from_scim(attributes)
        with translated(), write_transaction():
            user = directory.create_user(_org(), state.fields, values=state.values, managed_by_idp=True,
                                         active=state.active is not False,
                                         skip_invitation=integrations.skips_invitations)
            with user_changes.changing(user, by_idp=True):
                _store_links(user, from_scim({}), state)
            stored = {user.id: user_values.as_read(state.values)}  # as just written: not read back
            return self._records([user], projection, created=True, values=stored)[0]

    def get(self, resource_id, *, projection):
        with translated():
            return self._records([directory.get_user(_org(), resource_id)], projection)[0]

    def list(self, query):
        """RFC 7644 §3.4.2: the filter runs in the database, inside the organisation."""
        if _compares_a_key(query.where):
            total, page = _key_lookup(query)
        elif query.where is not None:
            total, page = query.page(directory.users_query(_org()), key=User.id, rows_by_key=directory.users_by_ids)
        else:
            # Unfiltered, the page walks user_listing in order (index_order), from where an earlier
            # page ended when one did (listing_positions); its total is kept, not counted.
            with index_order.walking_indexes():
                org = _org()
                users, changes = directory.live_listing(org)
                page_keys = (lambda offset, limit: listing_positions.page_ids(org, changes, offset, limit)) \
                    if _in_listing_order(query) else None
                total, page = query.page(directory.users_query(org), key=User.id, rows_by_key=directory.users_by_ids,
                                         total=lambda: users, page_keys=page_keys)
        return ListResult(total, self._records(page, query.projection))

    def replace(self, resource_id, replacement, *, expected_version, projection):
        """RFC 7644 §3.5.1: what the PUT leaves out is cleared; `active` left out stays as it is."""
        return self._change(resource_id, replacement.resolve, expected_version, projection)

    def patch(self, resource_id, patch, *, expected_version, projection):
        """RFC 7644 §3.5.2: all operations apply or none."""
        return self._change(resource_id, patch.apply, expected_version, projection)

    @retry_on_conflict
    def delete(self, resource_id, *, expected_version):
        """RFC 7644 §3.6: deleted, or (an objective owner) suspended and pending deletion; either
        way every later request for the id is 404."""
        with translated(), write_transaction():
            user = directory.get_user(_org(), resource_id, lock=True)
            with user_changes.changing(user, expected_version=expected_version, by_idp=True):
                deletion.scim_delete_user(user)

    @retry_on_conflict
    def _change(self, resource_id, new_attributes, expected_version, projection):
        """PUT and PATCH: the user as SCIM sees it, `new_attributes(current)` (Replacement.resolve
        or Patch.apply), and the directory asked for the difference, in one transaction."""
        with translated(), write_transaction():
            user = directory.get_user(_org(), resource_id, lock=True)
            with user_changes.changing(user, expected_version=expected_version, by_idp=True):
                # A change of a user never changes its teams (`groups` is readOnly): the answer's
                # are read with the values. (A group change another request commits meanwhile
                # shows from the next read, as with any read under READ COMMITTED.)
                values, groups = user_values.rows_and_teams_for([user.id], with_teams=projection.wants("groups"))
                stored = values.get(user.id, {})
                current = to_scim(user, stored, base_url=self.base_url)
                values_changed = _store(user, from_scim(current), from_scim(new_attributes(current)), stored)
            return self._records([user], projection, values=None if values_changed else {user.id: stored},
                                 groups=groups)[0]

    def _records(self, users: list, projection, *, created: bool = False, values: dict | None = None,
                 groups: dict | None = None) -> list[ResourceRecord]:
        """The page as records, in a fixed number of queries (none per user). Users created in
        this transaction are in no team yet: their groups are not read; `values` ({id: rows by
        kind}) and `groups` ({id: teams}) are the users' when the caller has just read them."""
        ids = [user.id for user in users]
        wants_groups = groups is None and projection.wants("groups") and not created
        if values is None:
            kinds = [kind for kind in VALUE_KINDS if projection.wants(kind)]
            values, found = user_values.rows_and_teams_for(ids, kinds, with_teams=wants_groups)
        else:
            found = teams.teams_of_users(ids) if wants_groups else {}
        groups = found if groups is None else groups
        manager_ids = {user.manager_id for user in users if user.manager_id}
        names = _display_names(manager_ids) if projection.wants(MANAGER_PATH) else {}
        return [ResourceRecord(user.id, str(user.version), user.created_at, user.updated_at,
                               to_scim(user, values.get(user.id, {}), base_url=self.base_url,
                                       manager_name=names.get(user.manager_id), groups=groups.get(user.id)))
                for user in users]


def _store(user, before: UserState, after: UserState, stored: dict) -> bool:
    """Ask the directory for what differs between two states of the user (`stored`: its values
    as read for `before`); whether any of its multi-valued attributes (emails, phone numbers,
    ...) changed."""
    fields = {name: value for name, value in after.fields.items() if before.fields.get(name) != value}
    values = {kind: rows for kind, rows in after.values.items() if before.values.get(kind, []) != rows}
    activity = after.active is not None and after.active != before.active
    changed = bool(fields or values or activity or after.manager_id != before.manager_id
                   or after.admin_role != before.admin_role)
    if changed and not user.managed_by_idp:
        fields["managed_by_idp"] = True  # the IdP changing a user manages it from now on
    if fields or values:
        directory.update_user(user, fields, values=values, stored=stored)
    if activity:
        directory.set_active(user, after.active, skip_invitation=integrations.skips_invitations)
    _store_links(user, before, after)
    return bool(values)


def _store_links(user, before: UserState, after: UserState) -> None:
    """The manager (RFC 7643 §4.3 manager.value) and the admin role (`roles` value "admin":
    granted when it appears; its removal revokes the directly granted right)."""
    if after.manager_id != before.manager_id:
        managers.set_manager(user, after.manager_id)
    if after.admin_role and not before.admin_role:
        admins.grant_admin(user)
    elif before.admin_role and not after.admin_role:
        admins.revoke_admin(user)


def _key_lookup(query) -> tuple[int, list]:
    """(total, page) of a filter that compares a key: at most one user, so no ORDER BY, and the
    key's own index (directory.by_key). The usual lookup (`userName eq "..."`, the IdPs' check
    before every create) reads the user's row in one statement prepared once per filter shape."""
    org, shaped = _org(), where_shape(query.where)
    if shaped is None or query.offset or not query.limit:
        return replace(query, order_by=()).page(directory.users_by_key_query(org), key=User.id,
                                                rows_by_key=directory.users_by_ids)
    shape, values = shaped
    users = cached_select(("user_key_lookup", shape), lambda: directory.users_by_key_query(org).where(
        query.where).limit(query.limit), [org.id, *values, query.limit], strict=False)
    return len(users), users


def _in_listing_order(query) -> bool:
    """Whether the page is in the users' default order (no sortBy): the order of user_listing."""
    return len(query.order_by) == len(LISTING_ORDER) and all(a is b for a, b in zip(query.order_by, LISTING_ORDER))


def _compares_a_key(where) -> bool:
    """Whether the compiled filter says `id eq` or `userName eq` at its top level (ANDed with
    anything else), so that at most one user of the organisation matches."""
    if not isinstance(where, Expression):
        return False
    if where.op == OP.AND:
        return _compares_a_key(where.lhs) or _compares_a_key(where.rhs)
    return where.op == OP.EQ and any(where.lhs is key for key in (User.id, User.user_name_key))


def _display_names(user_ids) -> dict[str, str | None]:
    if not user_ids:
        return {}
    return dict(User.select(User.id, User.display_name).where(User.id.in_(list(user_ids))).tuples())


def _org():
    """The organisation of the request's credential (connector.oauth_tenancy)."""
    return g.organisation
