"""The directory's refusals as SCIM errors (RFC 7644 §3.12), for every SCIM backend: the Ally
text stays the detail, the exception family chooses the status and scimType.

    with scim_errors.translated():
        directory.create_user(...)
"""
from __future__ import annotations

from contextlib import contextmanager

from scim import errors as scim
from scim.core_schemas import ENTERPRISE_USER_URN

from connector import errors
from connector.user_mapping import CORE_FIELDS, ENTERPRISE_FIELDS, NAME_FIELDS, VALUE_FIELDS


@contextmanager
def translated():
    """Raise the SCIM error that answers a directory refusal raised inside the block."""
    try:
        yield
    except errors.AllyError as exc:
        raise scim_error(exc) from None


def scim_error(exc: errors.AllyError) -> scim.ScimError:
    if isinstance(exc, errors.AccountSuspended):
        return scim.Uniqueness(suspended_detail(exc))
    if isinstance(exc, errors.TooLong):
        return scim.InvalidValue(f"The value of '{scim_attribute(exc.field)}' is longer than {exc.limit} characters"
                                 f"{errors.LOWERED if exc.lowered else ''}.")
    for family, answer in _FAMILIES:
        if isinstance(exc, family):
            return answer(exc.message)
    # A refusal of no family (none is expected over SCIM): the state forbids it (RFC 7644 §3.12 409).
    return scim.Conflict(exc.message)


def suspended_detail(exc: errors.AccountSuspended) -> str:
    """Ally's text and what to do instead: reactivate the suspended account (DESIGN.md §3)."""
    return (f"{exc.message}: reactivate it with \"active\": true (PATCH or PUT /Users/{exc.user_id}) "
            "instead of creating it again")


def scim_attribute(field: str) -> str:
    """The SCIM attribute a directory field holds: "given_name" -> "name.givenName",
    "addresses.street_address" -> "addresses.streetAddress"; a team's "name" is displayName."""
    kind, _, column = field.rpartition(".")
    if kind:
        return f"{kind}.{_VALUE_ATTRIBUTES.get(column, column)}"
    return _ATTRIBUTES.get(field, field)


_VALUE_ATTRIBUTES = {column: attr for attr, column in VALUE_FIELDS.items()}
_ATTRIBUTES = {
    "name": "displayName",  # Team.name (a User's name is in *_name columns)
    **{column: attr for attr, column in CORE_FIELDS.items()},
    **{column: f"name.{attr}" for attr, column in NAME_FIELDS.items()},
    **{column: f"{ENTERPRISE_USER_URN}:{attr}" for attr, column in ENTERPRISE_FIELDS.items()},
}

_FAMILIES = (
    (errors.NotFound, scim.NotFound),                  # 404
    (errors.Conflict, scim.Uniqueness),                # 409 uniqueness
    (errors.InvalidValue, scim.InvalidValue),          # 400 invalidValue
    (errors.StaleVersion, scim.PreconditionFailed),    # 412 (RFC 7644 §3.14 If-Match)
)
