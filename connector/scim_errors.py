"""The directory's refusals as SCIM errors (RFC 7644 §3.12), for every SCIM backend: the Ally
text stays the detail, the exception family chooses the status and scimType.

    with scim_errors.translated():
        directory.create_user(...)
"""
from __future__ import annotations

from contextlib import contextmanager

from scim import errors as scim

from connector import errors


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
    for family, answer in _FAMILIES:
        if isinstance(exc, family):
            return answer(exc.message)
    # A refusal of no family (none is expected over SCIM): the state forbids it (RFC 7644 §3.12 409).
    return scim.Conflict(exc.message)


def suspended_detail(exc: errors.AccountSuspended) -> str:
    """Ally's text and what to do instead: reactivate the suspended account (DESIGN.md §3)."""
    return (f"{exc.message}: reactivate it with \"active\": true (PATCH or PUT /Users/{exc.user_id}) "
            "instead of creating it again")


_FAMILIES = (
    (errors.NotFound, scim.NotFound),                  # 404
    (errors.Conflict, scim.Uniqueness),                # 409 uniqueness
    (errors.InvalidValue, scim.InvalidValue),          # 400 invalidValue
    (errors.StaleVersion, scim.PreconditionFailed),    # 412 (RFC 7644 §3.14 If-Match)
)
