"""GET /api/v1/audit: the audit trail as JSON for admins' tools (SIEM import, reports).

Read-only, paged by a cursor, and reachable only with a bearer credential carrying the
audit:read scope (`ally-scim token create --org ORG --scope audit:read`); like SCIM, the
organisation comes from the credential. Filters are those of `ally-scim audit`.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, jsonify, request, url_for
from werkzeug.exceptions import BadRequest

import oauth
from connector import audit
from connector.clock import parse_moment
from connector.models import AuditEvent
from oauth.scopes import AUDIT_READ

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_EVENT_ID = 2**63 - 1  # the largest id a BIGINT (and SQLite's INTEGER) holds


@bp.get("/audit")
def list_events():
    """Events oldest first; `next` is the URL of the following page, or null at the end."""
    organisation = _organisation()
    limit = _int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    after = _int_arg("after", 0, 0, MAX_EVENT_ID)
    query = (audit.events_query(organisation, since=_since(), user=_text_arg("user"), action=_text_arg("action"))
             .where(AuditEvent.id > after).order_by(AuditEvent.id).limit(limit + 1))
    events = list(query)
    page, more = events[:limit], len(events) > limit
    return jsonify(events=[audit.as_dict(event) for event in page],
                   next=_next_url(page[-1].id, limit) if more else None)


def _organisation():
    organisation = oauth.credential_for(AUDIT_READ).tenant_row  # oauth_tenancy.TENANT_ROWS
    if organisation is None:
        oauth.refuse("The organisation this credential belongs to no longer exists.")
    return organisation


def _since() -> datetime | None:
    text = request.args.get("since")
    if not text:
        return None
    try:
        return parse_moment(text)
    except ValueError:
        raise BadRequest(f"since={text[:40]!r} is not an ISO 8601 date or time from year 1 to 9999, "
                         f"e.g. 2026-11-01T00:00:00Z") from None


def _text_arg(name: str) -> str | None:
    text = request.args.get(name)
    if text is not None and "\x00" in text:
        raise BadRequest(f"{name} must not contain a NUL character (%00)")
    return text


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    # ASCII digits only (str.isdigit also takes "²"), and no longer than the bound (int() of
    # thousands of digits is refused, or slow).
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)) or not low <= int(text) <= high:
        raise BadRequest(f"{name}={text[:40]!r} must be a whole number from {low} to {high}")
    return int(text)


def _next_url(last_id: int, limit: int) -> str:
    args = {key: value for key, value in request.args.items() if key not in ("after", "limit")}
    return url_for("audit_api.list_events", after=last_id, limit=limit, _external=False, **args)
