"""Client credentials grant (RFC 6749 §4.4), Entra's "OAuth2 Client Credentials Grant" mode:
credentials sent as Header (client_secret_basic), Body (client_secret_post) or Both."""
from datetime import timedelta

import pytest

from oauth import clients
from oauth.models import AccessToken, ClientSecret, utcnow
from tests.oauth.helpers import acme, basic, bearer, client_credentials_token, oauth_client

USERS = "/scim/v2/Users"


def assert_token_response(response, scope="scim:read scim:write", expires_in=3600):
    """RFC 6749 §5.1: "The authorization server MUST include the HTTP "Cache-Control" response
    header field with a value of "no-store" in any response containing tokens"."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("allya_")
    assert body["expires_in"] == expires_in
    assert body["scope"] == scope
    assert "refresh_token" not in body  # §4.4.3: "A refresh token SHOULD NOT be included."
    return body["access_token"]


def test_basic_authentication(client, db):
    row, secret = oauth_client(acme())
    access = assert_token_response(client_credentials_token(client, row.client_id, secret))
    assert client.get(USERS, headers=bearer(access)).status_code not in (401, 403)


def test_body_authentication(client, db):
    row, secret = oauth_client(acme())
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": row.client_id,
                                                 "client_secret": secret})
    access = assert_token_response(response)
    assert client.get(USERS, headers=bearer(access)).status_code not in (401, 403)


def test_both_header_and_body(client, db):
    """Entra's "Both": the same credentials in the header and in the body."""
    row, secret = oauth_client(acme())
    response = client.post("/oauth/token", headers=basic(row.client_id, secret),
                           data={"grant_type": "client_credentials", "client_id": row.client_id,
                                 "client_secret": secret})
    assert_token_response(response)


def test_wrong_secret(client, db):
    """RFC 6749 §5.2 invalid_client: "If the client attempted to authenticate via the
    "Authorization" request header field, the authorization server MUST respond with an HTTP 401
    (Unauthorized) status code and include the "WWW-Authenticate" response header field"."""
    row, secret = oauth_client(acme())
    response = client_credentials_token(client, row.client_id, secret[:-2] + "xx")
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    body = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": row.client_id,
                                             "client_secret": "allys_wrong"})
    assert body.status_code == 401 and body.get_json()["error"] == "invalid_client"


def test_unknown_client(client, db):
    response = client_credentials_token(client, "no-such-client", "allys_whatever")
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_expired_secret_gets_no_token(client, db):
    """Entra gallery rules: "Don't issue an access token when the credentials are expired"."""
    row, secret = oauth_client(acme())
    ClientSecret.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    response = client_credentials_token(client, row.client_id, secret)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_rotation_keeps_both_secrets_until_the_old_is_deleted(client, db):
    """Entra gallery rules: "allowing multiple active secrets and deletion of old secrets"."""
    row, old = oauth_client(acme())
    _, new_row, new = clients.rotate_secret(row.client_id, secret_days=730)
    assert_token_response(client_credentials_token(client, row.client_id, old))
    assert_token_response(client_credentials_token(client, row.client_id, new))
    old_id = ClientSecret.get(ClientSecret.id != new_row.id).id
    clients.delete_secret(row.client_id, old_id)
    assert client_credentials_token(client, row.client_id, old).status_code == 401
    assert_token_response(client_credentials_token(client, row.client_id, new))


def test_scope_can_be_narrowed(client, db):
    row, secret = oauth_client(acme())
    access = assert_token_response(client_credentials_token(client, row.client_id, secret, scope="scim:read"),
                                   scope="scim:read")
    assert client.post(USERS, headers=bearer(access), json={}).status_code == 403


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
@pytest.mark.parametrize("header", ["Bearer ", "Basic  ", "Basic /w=="])
def test_unreadable_authorization_header_is_401_invalid_client(client, db, path, header):
    """Found by the generated-request tests: authlib's Basic parser raises on one word and a space,
    and on credentials that are not UTF-8 (b"\\xff" here), which was a 500."""
    response = client.post(path, headers={"Authorization": header}, data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.get_json() == {"error": "invalid_client", "error_description": "The Authorization header is malformed."}


def test_unknown_scope_is_named(client, db):
    """RFC 6749 §5.2 invalid_scope: "The requested scope is invalid, unknown, malformed, or
    exceeds the scope granted by the resource owner." """
    row, secret = oauth_client(acme())
    response = client_credentials_token(client, row.client_id, secret, scope="scim:read admin")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "invalid_scope",
        "error_description": "Unknown scope admin; this server offers scim:read scim:write audit:read offline_access"}


@pytest.mark.parametrize("asked, named", [('"scim:read"', "?scim:read?"), ("scim:read \u00e9", "?"),
                                          ("scim:read\x00", "scim:read?")])
def test_an_unknown_scope_is_named_in_the_characters_an_error_may_hold(client, db, asked, named):
    """RFC 6749 §5.2: error_description holds printable ASCII without '"' and '\\'; authlib
    refuses to build an error with anything else (it was a 500). On PostgreSQL a NUL also
    reaches no text column."""
    row, secret = oauth_client(acme())
    response = client_credentials_token(client, row.client_id, secret, scope=asked)
    assert response.status_code == 400
    assert response.get_json()["error_description"].startswith(f"Unknown scope {named}; this server offers")


@pytest.mark.parametrize("authenticate", ["basic", "body"])
def test_a_client_id_with_a_nul_is_an_unknown_client(client, db, authenticate):
    """The client id goes into a lookup and into the rate limiter's key: on PostgreSQL text
    cannot hold NUL, and the answer is invalid_client either way, never a 500."""
    form = {"grant_type": "client_credentials"}
    if authenticate == "basic":
        response = client.post("/oauth/token", data=form, headers=basic("a\x00b", "allys_whatever"))
    else:
        response = client.post("/oauth/token", data={**form, "client_id": "a\x00b", "client_secret": "allys_x"})
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] == "invalid_client"


def test_authorization_code_client_cannot_use_client_credentials(client, db):
    """RFC 6749 §5.2 unauthorized_client: "The authenticated client is not authorized to use this
    authorization grant type." """
    row, secret = oauth_client(acme(), "authorization_code",
                               redirect_uris=["https://system-admin.okta.com/admin/app/cpc/x/oauth/callback"])
    response = client_credentials_token(client, row.client_id, secret)
    assert response.status_code == 400
    assert response.get_json()["error"] == "unauthorized_client"


def test_access_token_lifetime_defaults_to_60_minutes(client, db):
    """Entra gallery rules: "Set access tokens to expire between 60 minutes and six hours";
    authlib's own default for this grant (10 days) must not apply."""
    row, secret = oauth_client(acme())
    assert client_credentials_token(client, row.client_id, secret).get_json()["expires_in"] == 3600


@pytest.mark.parametrize("minutes", [120, 360])
def test_access_token_lifetime_follows_config(config_data, request, minutes):
    config_data["oauth"] = {"access_token_minutes": minutes}
    http = request.getfixturevalue("client")
    request.getfixturevalue("db")
    row, secret = oauth_client(acme())
    response = client_credentials_token(http, row.client_id, secret)
    assert response.get_json()["expires_in"] == minutes * 60
    token = AccessToken.get()
    assert token.expires_at - token.issued_at == timedelta(minutes=minutes)


def test_expired_access_token_is_refused(client, db):
    row, secret = oauth_client(acme())
    access = client_credentials_token(client, row.client_id, secret).get_json()["access_token"]
    AccessToken.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    response = client.get(USERS, headers=bearer(access))
    assert response.status_code == 401
    assert response.get_json()["detail"] == "The bearer token has expired."


def test_get_is_not_a_token_request(client, db):
    row, secret = oauth_client(acme())
    response = client.get("/oauth/token", query_string={"grant_type": "client_credentials"},
                          headers=basic(row.client_id, secret))
    assert response.status_code == 405


def test_plain_http_public_url_is_refused(config_data, request):
    """RFC 6749 §3.2: "the authorization server MUST require the use of TLS ... when sending
    requests to the token endpoint"; only loopback addresses may use plain http."""
    config_data["public_url"] = "http://ally.internal"
    http = request.getfixturevalue("client")
    request.getfixturevalue("db")
    row, secret = oauth_client(acme())
    response = client_credentials_token(http, row.client_id, secret)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "insecure_transport",
        "error_description": "OAuth 2.0 needs https: set public_url to the https address clients use"}


def test_loopback_public_url_may_use_http(config_data, request):
    config_data["public_url"] = "http://127.0.0.1:8080"
    http = request.getfixturevalue("client")
    request.getfixturevalue("db")
    row, secret = oauth_client(acme())
    assert_token_response(client_credentials_token(http, row.client_id, secret))
