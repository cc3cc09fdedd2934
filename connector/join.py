"""The join link of an invitation email: GET /join/<token> shows whom the invitation is for and an
"Accept invitation" button; POSTing that form makes the user `active` through
directory.accept_invitation (audited with the actor "join-link").

Links that are unknown, revoked, used or expired, and links of suspended or deleted users, get
a page that says so (404 or 410), never a traceback. The pages share the OAuth pages' look and
headers: the link is a secret until used, so they are never cached or framed and send no Referer.

CSRF: the session cookie belongs to /oauth only, so the form is protected by a signed
double-submit cookie of its own: a random browser id in a cookie for /join, and in the form the
HMAC (with the shared secret key) of that id and the link. A form from another browser, another
link or another site does not match.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Blueprint, current_app, make_response, render_template, request

from connector import directory, secret_key
from connector.errors import AccountSuspended, InvalidInvitation
from connector.listings import shown_name
from oauth.blueprint import STALE_FORM, no_store_no_framing

bp = Blueprint("join", __name__)
bp.after_request(no_store_no_framing)
BROWSER_COOKIE = "ally_join"

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
    browser = request.cookies.get(BROWSER_COOKIE) or secrets.token_urlsafe(32)
    page = make_response(render_template(
        "join_invitation.html", token=token, csrf_token=_form_token(browser, token), organisation=user.organisation.name,
        email=user.email, name=shown_name(user), expires_at=f"{invitation.expires_at:%Y-%m-%d %H:%M}"))
    page.set_cookie(BROWSER_COOKIE, browser, path="/join", httponly=True, samesite="Lax",
                    secure=current_app.config["SESSION_COOKIE_SECURE"])
    return page


@bp.post("/join/<token>")
def accept(token: str):
    browser, sent = request.cookies.get(BROWSER_COOKIE), request.form.get("csrf_token", "")
    if not browser or not hmac.compare_digest(sent.encode(), _form_token(browser, token).encode()):
        return render_template("join_refused.html", heading="Please try again", message=STALE_FORM,
                               hint="Open the link in your invitation email again and press the button."), 400
    try:
        user = directory.accept_invitation(token)
    except (InvalidInvitation, AccountSuspended) as exc:
        return _refused(exc.message)
    return render_template("join_joined.html", organisation=user.organisation.name, email=user.email)


def _form_token(browser: str, token: str) -> str:
    if not current_app.secret_key:
        current_app.secret_key = secret_key.shared_secret_key()
    return hmac.new(current_app.secret_key.encode(), f"join\n{browser}\n{token}".encode(), hashlib.sha256).hexdigest()


def _refused(message: str):
    status, heading, hint = REFUSALS.get(message, (410, "Invitation not accepted", ""))
    return render_template("join_refused.html", heading=heading, message=message, hint=hint), status
