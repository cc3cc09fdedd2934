"""Making credentials for tests through the real APIs (inside the `db` fixture's app context),
and reading what the OAuth and SCIM endpoints answer."""
from __future__ import annotations

import base64
import re
import secrets
from urllib.parse import parse_qs, urlsplit

from connector import admin_signin, admins, directory, organisations
from connector.models import Organisation, User
from connector.oauth_tenancy import tenant_of
from oauth import clients, scopes, tokens

PASSWORD = "correct horse battery staple"
OKTA_REDIRECT = "https://system-admin.okta.com/admin/app/cpc/ally/oauth/callback"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def acme() -> Organisation:
    return organisations.find_organisation("acme")


def other_org(slug: str = "globex") -> Organisation:
    return organisations.create_organisation(slug.capitalize() + " Inc", slug=slug, domains=[f"{slug}.example"])


def bearer_token(org, *, name="Okta", scope=scopes.SCIM_SCOPES, expires_in_days=None) -> str:
    return tokens.create_token(tenant_of(org), name=name, scope=scope, expires_in_days=expires_in_days)[1]


def oauth_client(org, grant="client_credentials", *, name=None, redirect_uris=(), scope=scopes.SCIM_SCOPES):
    """(client row, secret) for a new client."""
    name = name or ("Entra" if grant == "client_credentials" else "Okta")
    client, _, secret = clients.create_client(tenant_of(org), grant_type=grant, name=name, secret_days=730,
                                              redirect_uris=redirect_uris, scope=scope)
    return client, secret


def admin_user(org, email: str, *, password: str | None = PASSWORD, is_admin=True, suspended=False) -> User:
    """A user made through the directory (on the organisation's domain, so active at once),
    granted admin rights and given a consent-page password."""
    user = directory.create_user(org, {"user_name": email})
    if is_admin:
        admins.grant_admin(user)
    if password:
        admin_signin.set_password(user, password)
    if suspended:
        directory.suspend(user)
    return user


def basic(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def client_credentials_token(http, client_id, secret, **form):
    """A client-credentials token response, the client authenticating with HTTP Basic."""
    return http.post("/oauth/token", data={"grant_type": "client_credentials", **form},
                     headers=basic(client_id, secret))


def csrf_of(response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


def form_action_of(response) -> str:
    match = re.search(r'<form method="post" action="([^"]+)"', response.get_data(as_text=True))
    assert match
    return match.group(1).replace("&amp;", "&")


def query_of(location: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def pkce_pair() -> tuple[str, str]:
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


def assert_scim_auth_error(response, status: int, detail: str) -> None:
    """RFC 7644 §3.12 error document, with RFC 6750 §3's WWW-Authenticate on 401."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/scim+json"
    assert response.get_json(force=True) == {"schemas": [SCIM_ERROR], "status": str(status), "detail": detail}
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="Ally SCIM"')


def sign_in(http, params: dict, *, email: str, password: str = PASSWORD):
    """From the authorization request through the login page; returns the page shown after
    signing in (the consent page, or a refusal) and its URL."""
    response = http.get("/oauth/authorize", query_string=params)
    assert response.status_code == 302 and response.location.startswith("/oauth/login"), response.location
    login_page = http.get(response.location)
    response = http.post("/oauth/login", data={"email": email, "password": password, "csrf_token": csrf_of(login_page),
                                               "next": query_of(response.location)["next"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    return http.get(response.location), response.location


def sign_in_and_approve(http, params: dict, *, email: str, password: str = PASSWORD, decision="approve"):
    """Walk the browser part of the code flow; returns the redirect to the client."""
    consent, _ = sign_in(http, params, email=email, password=password)
    assert consent.status_code == 200, consent.get_data(as_text=True)
    return http.post(form_action_of(consent), data={"csrf_token": csrf_of(consent), "decision": decision})
