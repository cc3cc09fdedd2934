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
from connector.oauth_tenancy import organisation_of
from oauth.scopes import AUDIT_READ

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@bp.get("/audit")
def list_events():
    """Events oldest first; `next` is the URL of the following page, or null at the end."""
    organisation = _organisation()
    limit = _int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    after = _int_arg("after", 0, 0, None)
    query = (audit.events_query(organisation, since=_since(), user=request.args.get("user"),
                                action=request.args.get("action"))
             .where(AuditEvent.id > after).order_by(AuditEvent.id).limit(limit + 1))
    events = list(query)
    page, more = events[:limit], len(events) > limit
    return jsonify(events=[audit.as_dict(event) for event in page],
                   next=_next_url(page[-1].id, limit) if more else None)


def _organisation():
    credential = oauth.credential_for(AUDIT_READ)
    organisation = organisation_of(credential.tenant)
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
        raise BadRequest(f"since={text!r} is not an ISO 8601 date or time, e.g. 2026-11-01T00:00:00Z") from None


def _int_arg(name: str, default: int, low: int, high: int | None) -> int:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise BadRequest(f"{name}={text!r} must be a whole number {bounds}")
    return int(text)


def _next_url(last_id: int, limit: int) -> str:
    args = {key: value for key, value in request.args.items() if key not in ("after", "limit")}
    return url_for("audit_api.list_events", after=last_id, limit=limit, _external=False, **args)
