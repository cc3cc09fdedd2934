"""The admin's side of the authorization-code grant: a minimal login page and a consent page
that names the client, the organisation and the scopes. An admin can grant a client access to
their own organisation only; the client must belong to that organisation."""
from __future__ import annotations

import time

from authlib.oauth2 import OAuth2Error
from flask import redirect, render_template, request, session, url_for

from oauth import scopes
from oauth.context import Event, current, emit
from oauth.csrf import check_csrf, csrf_token
from oauth.grants import Grantor
from oauth.server import unrepeatable_parameter

SESSION_ADMIN = "admin"
SIGN_IN_SECONDS = 30 * 60  # a sign-in is good for approving clients for half an hour
LOGIN_ATTEMPTS_PER_MINUTE = 10  # per email address, against password guessing
WRONG_LOGIN = "The email or password is not right, or this account is not an Ally admin."


def login():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return _login_page(next_url)
    check_csrf()
    email = request.form.get("email", "").strip()
    retry = current().rate_limit(f"oauth-login:{email.lower()[:200]}", LOGIN_ATTEMPTS_PER_MINUTE, 60)
    if retry:
        return _login_page(next_url, f"Too many attempts; try again in {retry} seconds.", 429, email)
    admin = current().authenticate_admin(email, request.form.get("password", ""))
    if admin is None:
        return _login_page(next_url, WRONG_LOGIN, 401, email)
    session.clear()  # a new session on sign-in (no fixation), with a fresh CSRF token
    session[SESSION_ADMIN] = {"id": admin.id, "tenant": admin.tenant, "email": admin.email, "at": int(time.time())}
    return redirect(next_url)


def logout():
    check_csrf()
    session.clear()
    return redirect(_safe_next(request.form.get("next")))


def authorize():
    """RFC 6749 §4.1.1-4.1.2: validate the request, make sure an admin of the client's
    organisation is signed in, show the consent page, and answer with a code or access_denied."""
    server = current().server
    unrepeatable = unrepeatable_parameter(request.values)
    if unrepeatable:
        # Never redirected: the redirect URI is not known to be the client's (RFC 6749 §4.1.2.1).
        return error_page(f"This authorization request cannot be used: its {unrepeatable} holds characters "
                          f"that are not allowed there (a URI is ASCII; check the client's settings).", 400)
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _authorization_error(server, error)
    admin = _signed_in_admin()
    if admin is None:
        return redirect(url_for(".login", next=request.full_path))
    client = grant.client
    if client.tenant != admin["tenant"]:
        return error_page("This client belongs to another Ally organisation. Sign in as an admin of the "
                          "organisation the client was created for.", 403, signed_in=admin)
    if request.method == "GET":
        return _consent_page(grant, admin)
    check_csrf()
    approved = request.form.get("decision") == "approve"
    grantor = Grantor(admin["id"], admin["tenant"]) if approved else None
    response = server.create_authorization_response(grant=grant, grant_user=grantor)
    emit(Event(action="oauth.consent_given" if approved else "oauth.consent_refused", tenant=client.tenant,
               target_type="oauth_client", target_id=client.client_id, target_label=client.name,
               actor=f"admin:{admin['email']}", details={"scope": grant.request.scope}))
    return response


def error_page(message: str, status: int, signed_in=None):
    return render_template("oauth/error.html", message=message, admin=signed_in, csrf_token=csrf_token()), status


def _authorization_error(server, error: OAuth2Error):
    """RFC 6749 §4.1.2.1: errors go back to the client's redirect URI once that URI is known to
    be registered; a missing or wrong client or redirect URI is told to the admin, never
    redirected."""
    if error.redirect_uri:
        return server.handle_error_response(None, error)
    return error_page(f"This authorization request cannot be used: {error.get_error_description()}", 400)


def _consent_page(grant, admin):
    client = grant.client
    organisation = current().describe_tenant(client.tenant) or "(unknown organisation)"
    granted = scopes.to_tuple(grant.request.scope)
    return render_template(
        "oauth/consent.html", client=client, organisation=organisation, admin=admin,
        scopes=[(name, scopes.DESCRIPTIONS[name]) for name in granted], csrf_token=csrf_token(),
        action=request.full_path)


def _login_page(next_url: str, message: str | None = None, status: int = 200, email: str = ""):
    return render_template("oauth/login.html", next_url=next_url, message=message, email=email,
                           csrf_token=csrf_token()), status


def _signed_in_admin() -> dict | None:
    admin = session.get(SESSION_ADMIN)
    if not admin or time.time() - admin.get("at", 0) > SIGN_IN_SECONDS:
        return None
    return admin


def _safe_next(target: str | None) -> str:
    """Only back to an authorization request on this server: never an open redirect."""
    if target and target.startswith("/oauth/authorize?") and "\\" not in target:
        return target
    return url_for(".login")
