"""Authorization code grant (RFC 6749 §4.1), Okta's "OAuth 2" mode: an Ally admin signs in,
approves the client on the consent page, and Okta exchanges the code (PKCE allowed, RFC 7636)."""
from datetime import timedelta

import pytest

from oauth.models import AccessToken, AuthorizationCode, utcnow
from tests.oauth.helpers import (
    OKTA_REDIRECT,
    PASSWORD,
    acme,
    admin_user,
    basic,
    bearer,
    csrf_of,
    form_action_of,
    oauth_client,
    other_org,
    pkce_pair,
    query_of,
    sign_in,
    sign_in_and_approve,
)

ADMIN = "ada@acme.example"


@pytest.fixture
def okta(db):
    admin_user(acme(), ADMIN)
    return oauth_client(acme(), "authorization_code", redirect_uris=[OKTA_REDIRECT])


def authorize_params(client_row, **extra):
    params = {"response_type": "code", "client_id": client_row.client_id, "redirect_uri": OKTA_REDIRECT,
              "scope": "scim:read scim:write offline_access", "state": "s-123"}
    return {**params, **extra}


def exchange(http, client_row, secret, code, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": OKTA_REDIRECT, **extra}
    return http.post("/oauth/token", data=data, headers=basic(client_row.client_id, secret))


def test_full_flow_with_pkce(client, okta):
    """RFC 7636 §4.6: the server compares BASE64URL(SHA256(code_verifier)) with the challenge."""
    row, secret = okta
    verifier, challenge = pkce_pair()
    params = authorize_params(row, code_challenge=challenge, code_challenge_method="S256")
    response = sign_in_and_approve(client, params, email=ADMIN)
    assert response.status_code == 302 and response.location.startswith(OKTA_REDIRECT + "?")
    answer = query_of(response.location)
    assert answer["state"] == "s-123"
    token = exchange(client, row, secret, answer["code"], code_verifier=verifier)
    assert token.status_code == 200, token.get_data(as_text=True)
    body = token.get_json()
    assert body["expires_in"] == 3600
    assert body["scope"] == "scim:read scim:write offline_access"
    assert body["refresh_token"].startswith("allyr_")
    assert client.get("/scim/v2/Users", headers=bearer(body["access_token"])).status_code not in (401, 403)
    stored = AccessToken.get()
    assert stored.admin_id is not None and stored.grant_type == "authorization_code"


def test_without_pkce_and_with_body_credentials(client, okta):
    """PKCE is allowed, not required, for this confidential client; Okta may send its
    credentials in the body (client_secret_post)."""
    row, secret = okta
    code = query_of(sign_in_and_approve(client, authorize_params(row), email=ADMIN).location)["code"]
    token = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": OKTA_REDIRECT, "client_id": row.client_id,
                                              "client_secret": secret})
    assert token.status_code == 200, token.get_data(as_text=True)


def test_wrong_code_verifier(client, okta):
    """RFC 7636 §4.6: "If the values are not equal, an error response indicating "invalid_grant"
    ... MUST be returned." """
    row, secret = okta
    _, challenge = pkce_pair()
    params = authorize_params(row, code_challenge=challenge, code_challenge_method="S256")
    code = query_of(sign_in_and_approve(client, params, email=ADMIN).location)["code"]
    other_verifier, _ = pkce_pair()
    response = exchange(client, row, secret, code, code_verifier=other_verifier)
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_grant", "error_description": "Code challenge failed."}


def test_plain_pkce_is_refused(client, okta):
    """RFC 7636 §4.4.1: a server that does not support the requested transformation answers
    invalid_request (on the client's redirect URI)."""
    row, _ = okta
    params = authorize_params(row, code_challenge="a" * 43, code_challenge_method="plain")
    response = client.get("/oauth/authorize", query_string=params)
    assert response.status_code == 302
    answer = query_of(response.location)
    assert response.location.startswith(OKTA_REDIRECT)
    assert answer["error"] == "invalid_request" and answer["state"] == "s-123"


def test_reused_code_is_refused_and_revokes_its_tokens(client, okta):
    """RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization server
    MUST deny the request and SHOULD revoke (when possible) all tokens previously issued based on
    that authorization code." """
    row, secret = okta
    code = query_of(sign_in_and_approve(client, authorize_params(row), email=ADMIN).location)["code"]
    first = exchange(client, row, secret, code).get_json()
    again = exchange(client, row, secret, code)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"
    assert client.get("/scim/v2/Users", headers=bearer(first["access_token"])).status_code == 401
    refresh = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                          headers=basic(row.client_id, secret))
    assert refresh.status_code == 400


def test_expired_code(client, okta):
    """RFC 6749 §4.1.2: "The authorization code MUST expire shortly after it is issued"."""
    row, secret = okta
    code = query_of(sign_in_and_approve(client, authorize_params(row), email=ADMIN).location)["code"]
    AuthorizationCode.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert exchange(client, row, secret, code).get_json()["error"] == "invalid_grant"


def test_code_redirect_uri_must_match_at_token_endpoint(client, okta):
    """RFC 6749 §4.1.3: redirect_uri is REQUIRED if it was in the authorization request, "and
    their values MUST be identical"."""
    row, secret = okta
    code = query_of(sign_in_and_approve(client, authorize_params(row), email=ADMIN).location)["code"]
    response = exchange(client, row, secret, code, redirect_uri=OKTA_REDIRECT + "/other")
    assert response.get_json() == {"error": "invalid_grant", "error_description": "Invalid 'redirect_uri' in request."}


def test_code_of_another_client_is_refused(client, okta):
    """RFC 6749 §4.1.3: "ensure that the authorization code was issued to the authenticated
    confidential client"."""
    row, secret = okta
    code = query_of(sign_in_and_approve(client, authorize_params(row), email=ADMIN).location)["code"]
    thief, thief_secret = oauth_client(acme(), "authorization_code", name="Thief", redirect_uris=[OKTA_REDIRECT])
    assert exchange(client, thief, thief_secret, code).get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize("uri", [OKTA_REDIRECT + "x", "https://evil.example/callback", OKTA_REDIRECT.upper()])
def test_redirect_uri_mismatch_is_shown_not_redirected(client, okta, uri):
    """RFC 6749 §4.1.2.1: on a "mismatching redirection URI ... the authorization server SHOULD
    inform the resource owner of the error and MUST NOT automatically redirect the user-agent to
    the invalid redirection URI." """
    row, _ = okta
    response = client.get("/oauth/authorize", query_string=authorize_params(row, redirect_uri=uri))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert f"Redirect URI {uri} is not supported by client." in response.get_data(as_text=True)


@pytest.mark.parametrize("client_id", ["nope", "a\x00b"])  # NUL: PostgreSQL text cannot hold it (was a 500)
def test_unknown_client_is_shown_not_redirected(client, okta, client_id):
    response = client.get("/oauth/authorize", query_string={"response_type": "code", "client_id": client_id,
                                                            "redirect_uri": OKTA_REDIRECT})
    assert response.status_code == 400 and "Location" not in response.headers
    assert "The client does not exist on this server." in response.get_data(as_text=True)


@pytest.mark.parametrize("parameter, value", [("redirect_uri", "https://evil.example/\u00e9"),
                                              ("redirect_uri", OKTA_REDIRECT + '"'), ("response_type", "\u00e9"),
                                              ("response_type", "code\x00")])
def test_parameters_an_error_cannot_repeat_are_shown_not_redirected(client, okta, parameter, value):
    """authlib repeats redirect_uri and response_type in its error descriptions, which may hold
    only printable ASCII without '"' and '\\' (RFC 6749 §4.1.2.1): it raised ValueError (a 500)
    instead. The request is refused before authlib reads it, and never redirected."""
    row, _ = okta
    response = client.get("/oauth/authorize", query_string=authorize_params(row, **{parameter: value}))
    assert response.status_code == 400 and "Location" not in response.headers
    assert f"its {parameter} holds characters that are not allowed there" in response.get_data(as_text=True)


def test_denied_consent_redirects_with_access_denied(client, okta):
    """RFC 6749 §4.1.2.1 access_denied: "The resource owner or authorization server denied the
    request." """
    row, _ = okta
    response = sign_in_and_approve(client, authorize_params(row), email=ADMIN, decision="deny")
    assert response.status_code == 302
    answer = query_of(response.location)
    assert answer["error"] == "access_denied" and answer["state"] == "s-123" and "code" not in answer


def test_consent_page_names_client_organisation_and_scopes(client, okta):
    row, _ = okta
    page, _ = sign_in(client, authorize_params(row), email=ADMIN)
    text = page.get_data(as_text=True)
    assert "Allow Okta to provision Acme Corp?" in text
    for scope in ("scim:read", "scim:write", "offline_access"):
        assert f"<code>{scope}</code>" in text
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_consent_without_csrf_token_is_refused(client, okta):
    row, _ = okta
    consent, _ = sign_in(client, authorize_params(row), email=ADMIN)
    forged = client.post(form_action_of(consent), data={"decision": "approve"})
    assert forged.status_code == 400
    assert "This form has expired or did not come from this page." in forged.get_data(as_text=True)
    assert not AuthorizationCode.select().exists()


@pytest.mark.parametrize("challenge", ["A" * 43 + "\n", "A" * 128 + "\n", "A" * 42 + "="])
def test_a_code_challenge_outside_rfc_7636_is_refused(client, okta, challenge):
    """RFC 7636 §4.2: 43-128 characters of [A-Za-z0-9-._~]. authlib's check let a final newline
    through: the challenge was stored (on PostgreSQL, at 129 characters, a 500) and never matched."""
    row, _ = okta
    response = client.get("/oauth/authorize", query_string=authorize_params(
        row, code_challenge=challenge, code_challenge_method="S256"))
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["error"] == "invalid_request"
    assert not AuthorizationCode.select().exists()


def test_an_admin_with_a_long_email_can_approve(client, db):
    """The audit actor "admin:<email>" is cut to its column (255) for a 256-character email
    (on PostgreSQL a 500 at every approval)."""
    email = "a" * 60 + "." + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "@acme.example"
    admin_user(acme(), email)
    row, _ = oauth_client(acme(), "authorization_code", redirect_uris=[OKTA_REDIRECT])
    response = sign_in_and_approve(client, authorize_params(row), email=email)
    assert response.status_code == 302 and "code" in query_of(response.headers["Location"])


def test_a_nul_in_the_email_is_a_wrong_login(client, okta):
    page = client.get("/oauth/login")
    response = client.post("/oauth/login", data={"email": "ada\x00@acme.example", "password": PASSWORD,
                                                 "csrf_token": csrf_of(page)})
    assert response.status_code == 401


def test_login_without_csrf_token_is_refused(client, okta):
    response = client.post("/oauth/login", data={"email": ADMIN, "password": PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize("password", ["wrong password!", ""])
def test_wrong_password(client, okta, password):
    page = client.get("/oauth/login")
    response = client.post("/oauth/login", data={"email": ADMIN, "password": password, "csrf_token": csrf_of(page)})
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "The email or password is not right, or this account is not an Ally admin." in text


def test_non_admin_cannot_sign_in(client, okta):
    admin_user(acme(), "bob@acme.example", is_admin=False)
    page = client.get("/oauth/login")
    response = client.post("/oauth/login", data={"email": "bob@acme.example", "password": PASSWORD,
                                                 "csrf_token": csrf_of(page)})
    assert response.status_code == 401


def test_suspended_admin_cannot_sign_in(client, okta):
    admin_user(acme(), "sus@acme.example", suspended=True)
    page = client.get("/oauth/login")
    response = client.post("/oauth/login", data={"email": "sus@acme.example", "password": PASSWORD,
                                                 "csrf_token": csrf_of(page)})
    assert response.status_code == 401


def test_admin_of_another_organisation_cannot_approve(client, okta):
    """The consent grants the client access to the admin's own organisation only."""
    row, _ = okta
    admin_user(other_org(), "gina@globex.example")
    page, url = sign_in(client, authorize_params(row), email="gina@globex.example")
    assert page.status_code == 403
    assert "This client belongs to another Ally organisation." in page.get_data(as_text=True)
    forged = client.post(url, data={"csrf_token": csrf_of(page), "decision": "approve"})
    assert forged.status_code == 403 and not AuthorizationCode.select().exists()


def test_login_never_redirects_off_site(client, okta):
    page = client.get("/oauth/login")
    response = client.post("/oauth/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": csrf_of(page),
                                                 "next": "https://evil.example/"})
    assert response.status_code == 302 and response.location == "/oauth/login"


def test_offline_access_alone_grants_the_clients_scopes(client, okta):
    """Okta's tip is to put scope=offline_access in the authorize URL; the SCIM scopes registered
    for the client are granted with it."""
    row, secret = okta
    code = query_of(sign_in_and_approve(client, authorize_params(row, scope="offline_access"),
                                        email=ADMIN).location)["code"]
    assert exchange(client, row, secret, code).get_json()["scope"] == "scim:read scim:write offline_access"


def test_client_credentials_client_cannot_ask_for_codes(client, db):
    admin_user(acme(), ADMIN)
    row, _ = oauth_client(acme())
    response = client.get("/oauth/authorize", query_string={"response_type": "code", "client_id": row.client_id,
                                                            "redirect_uri": OKTA_REDIRECT})
    assert response.status_code == 400 and "Location" not in response.headers
