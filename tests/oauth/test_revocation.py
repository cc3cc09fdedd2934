"""Token revocation (RFC 7009): authenticated clients revoke their own tokens."""
import pytest

from tests.oauth.helpers import (
    OKTA_REDIRECT,
    acme,
    admin_user,
    basic,
    bearer,
    client_credentials_token,
    oauth_client,
    query_of,
    sign_in_and_approve,
)

USERS = "/scim/v2/Users"


@pytest.fixture
def entra(client, db):
    row, secret = oauth_client(acme())
    access = client_credentials_token(client, row.client_id, secret).get_json()["access_token"]
    return row, secret, access


def revoke(http, row, secret, token, **extra):
    return http.post("/oauth/revoke", data={"token": token, **extra}, headers=basic(row.client_id, secret))


def test_revoked_access_token_is_refused_at_next_request(client, entra):
    """RFC 7009 §2.2: "The authorization server responds with HTTP status code 200 if the token
    has been revoked successfully"."""
    row, secret, access = entra
    assert client.get(USERS, headers=bearer(access)).status_code not in (401, 403)
    response = revoke(client, row, secret, access, token_type_hint="access_token")
    assert response.status_code == 200
    denied = client.get(USERS, headers=bearer(access))
    assert denied.status_code == 401 and denied.get_json()["detail"] == "The bearer token has been revoked."


def test_unknown_token_is_fine(client, entra):
    """RFC 7009 §2.2: "invalid tokens do not cause an error response"."""
    row, secret, _ = entra
    assert revoke(client, row, secret, "allya_unknown").status_code == 200


def test_client_must_authenticate(client, entra):
    row, _, access = entra
    response = revoke(client, row, "allys_wrong", access)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert client.get(USERS, headers=bearer(access)).status_code not in (401, 403)


def test_body_credentials(client, entra):
    row, secret, access = entra
    response = client.post("/oauth/revoke", data={"token": access, "client_id": row.client_id,
                                                  "client_secret": secret})
    assert response.status_code == 200
    assert client.get(USERS, headers=bearer(access)).status_code == 401


def test_another_clients_token_is_not_revoked(client, entra):
    """RFC 7009 §2.1: the server "verifies whether the token was issued to the client making the
    revocation request. If this validation fails, the request is refused"."""
    _, _, access = entra
    other, other_secret = oauth_client(acme(), name="Other")
    response = revoke(client, other, other_secret, access)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert client.get(USERS, headers=bearer(access)).status_code not in (401, 403)


def test_revoking_a_refresh_token_revokes_its_grant(client, db):
    """RFC 7009 §2.1: "If the token passed to the request is a refresh token ... the authorization
    server SHOULD also invalidate all access tokens based on the same authorization grant"."""
    admin_user(acme(), "ada@acme.example")
    row, secret = oauth_client(acme(), "authorization_code", redirect_uris=[OKTA_REDIRECT])
    params = {"response_type": "code", "client_id": row.client_id, "redirect_uri": OKTA_REDIRECT}
    code = query_of(sign_in_and_approve(client, params, email="ada@acme.example").location)["code"]
    tokens = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                               "redirect_uri": OKTA_REDIRECT},
                         headers=basic(row.client_id, secret)).get_json()
    assert revoke(client, row, secret, tokens["refresh_token"], token_type_hint="refresh_token").status_code == 200
    assert client.get(USERS, headers=bearer(tokens["access_token"])).status_code == 401
    again = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                        headers=basic(row.client_id, secret))
    assert again.get_json()["error"] == "invalid_grant"


def test_long_lived_tokens_are_not_revocable_by_clients(client, entra):
    from tests.oauth.helpers import bearer_token

    row, secret, _ = entra
    token = bearer_token(acme())
    assert revoke(client, row, secret, token).status_code == 200
    assert client.get(USERS, headers=bearer(token)).status_code not in (401, 403)
