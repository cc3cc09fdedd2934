"""The join link of an invitation email: GET /join/<token> shows whom the invitation is for and an
"Accept invitation" button; POSTing that form makes the user `active` through
directory.accept_invitation (audited with the actor "join-link").

The form carries a CSRF token kept in the signed session cookie. Links that are unknown,
revoked, used or expired, and links of suspended or deleted users, get a page that says so
(404 or 410), never a traceback. The token is a secret until used, so the pages are not cached,
not framed, and send no Referer.
"""
from __future__ import annotations

import secrets

from flask import Blueprint, render_template, request, session

from connector import directory
from connector.listings import shown_name
from connector.errors import AccountSuspended, InvalidInvitation

bp = Blueprint("join", __name__)
CSRF_KEY = "join_csrf"
CSRF_FIELD = "csrf_token"

# (status, heading, hint) for each refusal; the message is the directory's exact text.
REFUSALS = {
    InvalidInvitation.UNKNOWN: (404, "Invitation not found",
                                "The link may be mistyped, or a newer invitation replaced it. "
                                "Ask your Ally admin to invite you again."),
    InvalidInvitation.USED: (410, "Invitation already used",
                             "You have already joined with this link: sign in to Ally instead."),
    InvalidInvitation.EXPIRED: (410, "Invitation expired", "Ask your Ally admin to send you a new invitation."),
    AccountSuspended.TEXT: (410, "Account suspended",
                            "An Ally admin has to make the account active again before you can join."),
}


@bp.get("/join/<token>")
def show(token: str):
    try:
        invitation, user = directory.check_invitation(token)
    except (InvalidInvitation, AccountSuspended) as exc:
        return _refused(exc.message)
    return render_template("join_invitation.html", token=token, csrf_token=_csrf_token(),
                           organisation=user.organisation.name, email=user.email, name=shown_name(user),
                           expires_at=f"{invitation.expires_at:%Y-%m-%d %H:%M}")


@bp.post("/join/<token>")
def accept(token: str):
    expected = session.get(CSRF_KEY)
    if not expected or not secrets.compare_digest(expected, request.form.get(CSRF_FIELD, "")):
        return render_template("join_refused.html", heading="Please try again",
                               message="This form could not be checked (it is old, or was not sent from the "
                                       "invitation page).",
                               hint="Open the link in your invitation email again and press the button."), 400
    try:
        user = directory.accept_invitation(token)
    except (InvalidInvitation, AccountSuspended) as exc:
        return _refused(exc.message)
    return render_template("join_joined.html", organisation=user.organisation.name, email=user.email)


@bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; " \
                                                  "form-action 'self'; frame-ancestors 'none'"
    return response


def _csrf_token() -> str:
    if CSRF_KEY not in session:
        session[CSRF_KEY] = secrets.token_urlsafe(32)
    return session[CSRF_KEY]


def _refused(message: str):
    status, heading, hint = REFUSALS.get(message, (410, "Invitation not accepted", ""))
    return render_template("join_refused.html", heading=heading, message=message, hint=hint), status


