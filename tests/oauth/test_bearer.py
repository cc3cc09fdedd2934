"""Long-lived bearer tokens and the protection of everything under /scim/v2 (RFC 6750).

The SCIM endpoints are built elsewhere; once a credential passes, Flask answers its own 404
here, so these tests tell "refused" (401/403) from "let through" (anything else)."""
from datetime import timedelta

import pytest

import oauth
from connector.oauth_tenancy import tenant_of
from oauth import tokens
from oauth.models import AccessToken, BearerToken, Client, utcnow
from tests.oauth.helpers import (
    acme,
    assert_scim_auth_error,
    bearer,
    bearer_token,
    client_credentials_token,
    oauth_client,
    other_org,
)

USERS = "/scim/v2/Users"


def let_through(response) -> bool:
    return response.status_code not in (401, 403)


def test_token_is_long_random_and_stored_only_as_hash(db):
    token = bearer_token(acme())
    assert token.startswith("allyt_") and len(token) >= 6 + 43  # 256 bits, base64url
    row = BearerToken.get()
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_valid_token_passes(client, db):
    token = bearer_token(acme())
    assert let_through(client.get(USERS, headers=bearer(token)))


def test_missing_credentials(client, db):
    """RFC 6750 §3.1: "If the request lacks any authentication information ... the resource
    server SHOULD NOT include an error code or other error information." """
    response = client.get(USERS)
    assert_scim_auth_error(response, 401, "Authentication required: send the token as 'Authorization: Bearer <token>'.")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Ally SCIM"'


@pytest.mark.parametrize("header", ["Bearer", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Token abc"])
def test_malformed_or_other_scheme(client, db, header):
    response = client.get(USERS, headers={"Authorization": header})
    assert_scim_auth_error(response, 401,
                           "Only bearer tokens are accepted: send the token as 'Authorization: Bearer <token>'.")


@pytest.mark.parametrize("token", ["allyt_" + "x" * 43, "not-ours", "allya_" + "y" * 43])
def test_unknown_token(client, db, token):
    """RFC 6750 §3.1 invalid_token: "The access token provided is expired, revoked, malformed, or
    invalid for other reasons." """
    response = client.get(USERS, headers=bearer(token))
    assert_scim_auth_error(response, 401, "The bearer token is not recognised.")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_expired_token(client, db):
    token = bearer_token(acme(), expires_in_days=30)
    assert let_through(client.get(USERS, headers=bearer(token)))
    BearerToken.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert_scim_auth_error(client.get(USERS, headers=bearer(token)), 401, "The bearer token has expired.")


def test_revoked_token_refused_at_next_request(client, db):
    token = bearer_token(acme())
    assert let_through(client.get(USERS, headers=bearer(token)))
    tokens.revoke_token(BearerToken.get().id)
    assert_scim_auth_error(client.get(USERS, headers=bearer(token)), 401, "The bearer token has been revoked.")


@pytest.mark.parametrize("method,path", [("POST", USERS), ("PATCH", USERS + "/1"), ("PUT", USERS + "/1"),
                                         ("DELETE", USERS + "/1"), ("POST", "/scim/v2/Bulk")])
def test_read_only_token_cannot_write(client, db, method, path):
    """RFC 6750 §3.1 insufficient_scope: "The request requires higher privileges than provided by
    the access token. The resource server SHOULD respond with the HTTP 403 (Forbidden)"."""
    token = bearer_token(acme(), scope=("scim:read",))
    response = client.open(path, method=method, headers=bearer(token), json={})
    assert_scim_auth_error(response, 403, "This request needs the scope scim:write, which the token does not carry.")
    assert response.headers["WWW-Authenticate"] == \
        'Bearer realm="Ally SCIM", error="insufficient_scope", scope="scim:write"'


@pytest.mark.parametrize("method,path", [("GET", USERS), ("GET", "/scim/v2/ServiceProviderConfig"),
                                         ("POST", "/scim/v2/.search"), ("POST", USERS + "/.search")])
def test_read_only_token_reads_and_searches(client, db, method, path):
    """RFC 7644 §3.4.3: POST to /.search is a query, so scim:read is enough."""
    token = bearer_token(acme(), scope=("scim:read",))
    assert let_through(client.open(path, method=method, headers=bearer(token), json={}))


def test_write_only_token_cannot_read(client, db):
    token = bearer_token(acme(), scope=("scim:write",))
    assert_scim_auth_error(client.get(USERS, headers=bearer(token)), 403,
                           "This request needs the scope scim:read, which the token does not carry.")
    assert let_through(client.post(USERS, headers=bearer(token), json={}))


def test_paths_outside_scim_need_no_token(client, db):
    assert client.get("/healthz").status_code == 200
    assert client.get("/.well-known/oauth-authorization-server").status_code == 200
    assert client.get("/scim/v2x").status_code == 404


def test_removing_a_tenant_removes_all_its_credentials(client, db):
    """What the application calls when it deletes an organisation: nothing of it can authenticate
    afterwards, and other organisations keep theirs."""
    globex = other_org()
    token = bearer_token(globex)
    row, secret = oauth_client(globex)
    access = client_credentials_token(client, row.client_id, secret).get_json()["access_token"]
    kept = bearer_token(acme())
    assert oauth.remove_tenant(tenant_of(globex)) == 4  # access token, secret, client, bearer token
    for gone in (token, access):
        assert client.get(USERS, headers=bearer(gone)).status_code == 401
    assert not Client.select().exists() and not AccessToken.select().exists()
    assert let_through(client.get(USERS, headers=bearer(kept)))
