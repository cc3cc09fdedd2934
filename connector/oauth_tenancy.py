"""Credentials to organisations: every request under /scim/v2 must carry a bearer credential
(a long-lived token or an OAuth access token) that names exactly one organisation and its
scopes; the organisation of the request comes from the credential only.

For each such request this sets
    g.organisation     the connector.models.Organisation the credential belongs to
    g.credential_name  "token:<name>" or "client:<name>", also the audit actor of the request
    g.credential_key   the connection's stable key ("token:<id>", "client:<client_id>"), which
                       connector.integrations keys its per-connection settings by
    g.scopes           the credential's scopes, e.g. ("scim:read", "scim:write")
or answers 401/403 as a SCIM error document before any view runs.
"""
from __future__ import annotations

import functools
import re
from contextlib import ExitStack, nullcontext

from flask import g, has_request_context, request
from peewee import Case, Cast

import oauth
from connector import audit
from connector.db import as_model, cached_select, is_postgres
from connector.models import Organisation
from oauth.scopes import SCIM_READ, SCIM_WRITE

SCIM_PREFIX = "/scim/v2"
READ_METHODS = ("GET", "HEAD")
SEARCH_SUFFIX = "/.search"


def tenant_of(organisation: Organisation) -> str:
    """The opaque tenant string oauth/ stores for an organisation."""
    return str(organisation.id)


# What tenant_of writes: an organisation id in decimal, without sign, spaces or leading zeros
# (18 digits at most, inside both databases' 64-bit integers). Nothing else names an organisation.
ID_DIGITS = "^[1-9][0-9]{0,17}$"


def names_organisation(tenant_column):
    """The join condition of the organisation a credential's tenant names, for oauth/ to read
    it with the credential (oauth.TenantRows). The tenant text becomes the integer key, so the
    join finds the row by its primary key; PostgreSQL refuses to cast text that is not a
    number, so there it casts ID_DIGITS only. Comparing the key back as text keeps the match
    exact: SQLite's cast reads " 7", "+7" and "7x" as 7."""
    if is_postgres():
        number = Case(None, [(tenant_column.regexp(ID_DIGITS), Cast(tenant_column, "BIGINT"))], None)
    else:
        number = Cast(tenant_column, "INTEGER")
    return (Organisation.id == number) & (Cast(Organisation.id, "TEXT") == tenant_column)


TENANT_ROWS = oauth.TenantRows(Organisation, names_organisation, make=functools.partial(as_model, Organisation))


def organisation_of(tenant: str) -> Organisation | None:
    """The organisation the tenant names (as names_organisation matches it), or None."""
    if not re.fullmatch(ID_DIGITS, tenant):
        return None
    organisation_id = int(tenant)
    found = cached_select("organisation_of", lambda: Organisation.select().where(
        Organisation.id == organisation_id).limit(1), [organisation_id, 1])
    return found[0] if found else None


def describe_tenant(tenant: str) -> str | None:
    organisation = organisation_of(tenant)
    return organisation.name if organisation else None


def required_scope(method: str, path: str) -> str:
    """scim:read for GETs and searches (RFC 7644 §3.4.3 POST .../.search), scim:write otherwise."""
    if method in READ_METHODS or (method == "POST" and path.rstrip("/").endswith(SEARCH_SUFFIX)):
        return SCIM_READ
    return SCIM_WRITE


def is_scim_path(path: str) -> bool:
    return path == SCIM_PREFIX or path.startswith(SCIM_PREFIX + "/")


def record_event(event: oauth.Event) -> None:
    """oauth/'s audit events, into the audit trail of the organisation they concern."""
    changes = {key: [None, value] for key, value in event.details.items()} or None
    with audit.acting_as(event.actor, _request_id()) if event.actor else nullcontext():
        audit.record(event.action, organisation=organisation_of(event.tenant), target_type=event.target_type,
                     target_id=event.target_id, target_label=event.target_label, changes=changes)


def _request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def init_app(app) -> None:
    """Register the credential check for /scim/v2 (after the database connection hook)."""

    @app.before_request
    def authenticate_scim_request():
        if not is_scim_path(request.path):
            return
        credential = oauth.credential_for(required_scope(request.method, request.path))
        organisation = credential.tenant_row  # read with the credential (TENANT_ROWS)
        if organisation is None:
            oauth.refuse("The organisation this credential belongs to no longer exists.")
        g.organisation = organisation
        g.credential_name = credential.label
        g.credential_key = credential.key
        g.scopes = credential.scopes
        g.credential_context = ExitStack()
        g.credential_context.enter_context(audit.acting_as(credential.label, _request_id()))

    @app.teardown_request
    def leave_credential_context(exc):
        context = g.pop("credential_context", None)
        if context is not None:
            context.close()
