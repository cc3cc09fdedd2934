"""The directory's refusals as SCIM errors (RFC 7644 §3.12): the one mapping of the
connector.errors families onto a status and scimType, used by every SCIM backend.

    with scim_refusals():
        teams.change_team(...)
"""
from __future__ import annotations

from contextlib import contextmanager

from connector import errors
from scim import errors as scim_errors


@contextmanager
def scim_refusals():
    """NotFound → 404, Conflict → 409 uniqueness, InvalidValue → 400 invalidValue,
    StaleVersion → 412; the detail is the directory's own text."""
    try:
        yield
    except errors.NotFound as refusal:
        raise scim_errors.NotFound(refusal.message) from None
    except errors.Conflict as refusal:
        raise scim_errors.Uniqueness(refusal.message) from None
    except errors.InvalidValue as refusal:
        raise scim_errors.InvalidValue(refusal.message) from None
    except errors.StaleVersion as refusal:
        raise scim_errors.PreconditionFailed(refusal.message) from None
