"""Refresh tokens (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): each refresh token works
once and comes back with a new one; a used one presented again revokes the whole grant."""
from datetime import timedelta

import pytest

from oauth.models import AccessToken, utcnow
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
def granted(client, db):
    """An Okta client and the token response of its first code exchange."""
    admin_user(acme(), "ada@acme.example")
    row, secret = oauth_client(acme(), "authorization_code", redirect_uris=[OKTA_REDIRECT])
    params = {"response_type": "code", "client_id": row.client_id, "redirect_uri": OKTA_REDIRECT,
              "scope": "scim:read scim:write offline_access"}
    code = query_of(sign_in_and_approve(client, params, email="ada@acme.example").location)["code"]
    tokens = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                               "redirect_uri": OKTA_REDIRECT},
                         headers=basic(row.client_id, secret)).get_json()
    return row, secret, tokens


def refresh(http, row, secret, refresh_token, **extra):
    return http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
                     headers=basic(row.client_id, secret))


def test_rotation(client, granted):
    row, secret, first = granted
    response = refresh(client, row, secret, first["refresh_token"])
    assert response.status_code == 200, response.get_data(as_text=True)
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["expires_in"] == 3600
    assert second["scope"] == "scim:read scim:write offline_access"
    assert client.get(USERS, headers=bearer(second["access_token"])).status_code not in (401, 403)
    # The pair it replaces is retired: the old access token and the old refresh token.
    assert client.get(USERS, headers=bearer(first["access_token"])).status_code == 401
    third = refresh(client, row, secret, second["refresh_token"])
    assert third.status_code == 200


def test_replayed_refresh_token_revokes_the_family(client, granted):
    """RFC 9700 §4.14.2: with rotation, if a refresh token is used again "the authorization
    server cannot determine which party submitted the invalid refresh token, but it will revoke
    the active refresh token", stopping an attacker who stole an earlier one."""
    row, secret, first = granted
    second = refresh(client, row, secret, first["refresh_token"]).get_json()
    replay = refresh(client, row, secret, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.get_json()["error"] == "invalid_grant"
    assert client.get(USERS, headers=bearer(second["access_token"])).status_code == 401
    assert refresh(client, row, secret, second["refresh_token"]).status_code == 400


def test_refresh_with_narrower_scope(client, granted):
    """RFC 6749 §6: the requested scope "MUST NOT include any scope not originally granted"."""
    row, secret, first = granted
    narrower = refresh(client, row, secret, first["refresh_token"], scope="scim:read")
    assert narrower.status_code == 200 and narrower.get_json()["scope"] == "scim:read"
    wider = refresh(client, row, secret, narrower.get_json()["refresh_token"], scope="scim:read scim:write")
    assert wider.status_code == 400 and wider.get_json()["error"] == "invalid_scope"


def test_expired_refresh_token(client, granted):
    row, secret, first = granted
    AccessToken.update(refresh_expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert refresh(client, row, secret, first["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_refresh_token_of_another_client(client, granted):
    row, secret, first = granted
    other, other_secret = oauth_client(acme(), "authorization_code", name="Other", redirect_uris=[OKTA_REDIRECT])
    assert refresh(client, other, other_secret, first["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert refresh(client, row, secret, first["refresh_token"]).status_code == 200


def test_refresh_lifetime_follows_config(client, granted):
    row, _, _ = granted
    token = AccessToken.get()
    assert token.refresh_expires_at - token.issued_at == timedelta(days=90)


def test_client_credentials_clients_get_no_refresh_tokens(client, db):
    row, secret = oauth_client(acme())
    body = client_credentials_token(client, row.client_id, secret).get_json()
    assert "refresh_token" not in body
    response = refresh(client, row, secret, "allyr_" + "x" * 43)
    assert response.get_json()["error"] == "unauthorized_client"
