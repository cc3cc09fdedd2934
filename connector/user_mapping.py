"""SCIM User <-> Ally user: where each attribute of the User, EnterpriseUser and Ally schemas is
held. One table, read in both directions here and by the filter map in connector.scim_users.

What the IdP sent comes back as it was sent (case, order, values). Two things are normalised,
both by RFC 7643 §2.5 ("unassigned" and the default are the same): an empty string is no value,
and `"primary": false` is the same as no `primary`. `password` is never read: it is write-only
(RFC 7643 §4.1.1) and the IdP's password is not an Ally login. `$ref` and `displayName` of the
manager and the whole of `groups` are computed, never stored.
"""
from __future__ import annotations

from dataclasses import dataclass

from scim.core_schemas import ENTERPRISE_USER_URN

from connector.models import VALUE_KINDS, id_named

ALLY_USER_URN = "urn:ietf:params:scim:schemas:extension:ally:2.0:User"

# Single-valued attributes: SCIM name -> User column.
CORE_FIELDS = {
    "userName": "user_name", "externalId": "external_id", "displayName": "display_name",
    "nickName": "nick_name", "profileUrl": "profile_url", "title": "title", "userType": "user_type",
    "preferredLanguage": "preferred_language", "locale": "locale", "timezone": "timezone",
}
NAME_FIELDS = {
    "formatted": "formatted_name", "familyName": "family_name", "givenName": "given_name",
    "middleName": "middle_name", "honorificPrefix": "honorific_prefix", "honorificSuffix": "honorific_suffix",
}
ENTERPRISE_FIELDS = {
    "employeeNumber": "employee_number", "costCenter": "cost_center", "organization": "organization",
    "division": "division", "department": "department",
}
# Sub-attributes of multi-valued attributes (emails, phoneNumbers, addresses, roles, ...) ->
# UserValue columns (connector.user_values row fields).
VALUE_FIELDS = {
    "value": "value", "display": "display", "type": "type", "primary": "primary", "formatted": "formatted",
    "streetAddress": "street_address", "locality": "locality", "region": "region", "postalCode": "postal_code",
    "country": "country",
}
ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class UserState:
    """A SCIM User in the directory's terms: profile fields (connector.directory
    PROFILE_FIELDS and user_name), multi-valued rows by kind, active (None: not said), the
    manager's id, and whether `roles` holds the admin role."""

    fields: dict
    values: dict
    active: bool | None = None
    manager_id: str | None = None

    @property
    def admin_role(self) -> bool:
        """Ally's "Make Admin" over SCIM: a `roles` value "admin" (any case)."""
        return any((row.get("value") or "").lower() == ADMIN_ROLE for row in self.values.get("roles", ()))


def from_scim(attributes: dict) -> UserState:
    """A canonical SCIM attribute dict (scim.validation) in the directory's terms; attributes
    that are absent come out as None or [] (a PUT clears them)."""
    name = attributes.get("name") or {}
    enterprise = attributes.get(ENTERPRISE_USER_URN) or {}
    fields = {column: _text(attributes.get(attr)) for attr, column in CORE_FIELDS.items()}
    fields.update({column: _text(name.get(attr)) for attr, column in NAME_FIELDS.items()})
    fields.update({column: _text(enterprise.get(attr)) for attr, column in ENTERPRISE_FIELDS.items()})
    values = {kind: [row for row in map(_row, attributes.get(kind) or ()) if row] for kind in VALUE_KINDS}
    manager = enterprise.get("manager") or {}
    manager_id = _text(manager.get("value"))
    return UserState(fields, values, attributes.get("active"), manager_id and id_named(manager_id))


def to_scim(user, values: dict, *, base_url: str, manager_name: str | None = None, groups=None) -> dict:
    """The user as a canonical SCIM attribute dict (what scim.handlers renders). `values`:
    {kind: rows} as connector.user_values gives them; `groups`: [(team id, name)] or None to
    leave `groups` out."""
    data = user.__data__  # the columns as read (a page renders a hundred users: no descriptor per column)
    document = _present(data, _CORE_COLUMNS)
    name = _present(data, _NAME_COLUMNS)
    if name:
        document["name"] = name
    document["active"] = user.status != "suspended"
    for kind in VALUE_KINDS:
        if values.get(kind):
            document[kind] = [_scim_row(row) for row in values[kind]]
    enterprise = _present(data, _ENTERPRISE_COLUMNS)
    if user.manager_id:
        enterprise["manager"] = {"value": user.manager_id, "$ref": f"{base_url}/Users/{user.manager_id}"}
        if manager_name is not None:
            enterprise["manager"]["displayName"] = manager_name
    if enterprise:
        document[ENTERPRISE_USER_URN] = enterprise
    if groups:
        document["groups"] = [{"value": team_id, "$ref": f"{base_url}/Groups/{team_id}", "display": team_name,
                               "type": "direct"} for team_id, team_name in groups]
    document[ALLY_USER_URN] = {"status": user.status}
    return document


_CORE_COLUMNS = tuple(CORE_FIELDS.items())
_NAME_COLUMNS = tuple(NAME_FIELDS.items())
_ENTERPRISE_COLUMNS = tuple(ENTERPRISE_FIELDS.items())
_SCIM_NAMES = {column: attr for attr, column in VALUE_FIELDS.items()}


def _text(value):
    """RFC 7643 §2.5: an empty string is no value."""
    return None if value == "" else value


def _row(item) -> dict:
    if not isinstance(item, dict):  # a multi-valued simple attribute: the value itself
        item = {"value": item}
    return {column: item[attr] for attr, column in VALUE_FIELDS.items() if item.get(attr) not in (None, "", False)}


def _scim_row(row: dict) -> dict:
    """A stored value's row (UserValue column names, in VALUE_FIELDS order) in SCIM names."""
    return {_SCIM_NAMES[column]: value for column, value in row.items() if value not in (None, False)}


def _present(data: dict, columns) -> dict:
    """{SCIM name: value} of the (SCIM name, column) pairs whose column holds a value."""
    return {attr: value for attr, column in columns if (value := data.get(column)) is not None}
