"""Token introspection (RFC 7662), for authenticated clients and their own tokens only."""
import calendar

from oauth.models import AccessToken
from tests.oauth.helpers import acme, basic, bearer_token, client_credentials_token, oauth_client


def introspect(http, row, secret, token):
    return http.post("/oauth/introspect", data={"token": token}, headers=basic(row.client_id, secret))


def test_active_token(client, db):
    """RFC 7662 §2.2: "active" REQUIRED, with scope, client_id, token_type, exp, iat."""
    row, secret = oauth_client(acme())
    access = client_credentials_token(client, row.client_id, secret).get_json()["access_token"]
    response = introspect(client, row, secret, access)
    assert response.status_code == 200
    stored = AccessToken.get()
    assert response.get_json() == {
        "active": True, "scope": "scim:read scim:write", "client_id": row.client_id, "token_type": "Bearer",
        "exp": calendar.timegm(stored.expires_at.utctimetuple()),
        "iat": calendar.timegm(stored.issued_at.utctimetuple()),
        "sub": row.client_id, "iss": "https://ally.test"}
    assert response.get_json()["exp"] - response.get_json()["iat"] == 3600


def test_revoked_unknown_and_foreign_tokens_are_inactive(client, db):
    """RFC 7662 §2.2: "If the introspection call is properly authorized but the token is not
    active, does not exist on this server, or the protected resource is not allowed to
    introspect this particular token, then the authorization server MUST return an introspection
    response with the "active" field set to "false"." """
    row, secret = oauth_client(acme())
    access = client_credentials_token(client, row.client_id, secret).get_json()["access_token"]
    other, other_secret = oauth_client(acme(), name="Other")
    assert introspect(client, other, other_secret, access).get_json() == {"active": False}
    assert introspect(client, row, secret, "allya_nothing").get_json() == {"active": False}
    assert introspect(client, row, secret, bearer_token(acme())).get_json() == {"active": False}
    client.post("/oauth/revoke", data={"token": access}, headers=basic(row.client_id, secret))
    assert introspect(client, row, secret, access).get_json() == {"active": False}


def test_only_authenticated_clients(client, db):
    """RFC 7662 §2.1: "the endpoint MUST also require some form of authorization to access this
    endpoint"."""
    row, secret = oauth_client(acme())
    access = client_credentials_token(client, row.client_id, secret).get_json()["access_token"]
    anonymous = client.post("/oauth/introspect", data={"token": access})
    assert anonymous.status_code == 401 and anonymous.get_json()["error"] == "invalid_client"
    wrong = introspect(client, row, "allys_wrong", access)
    assert wrong.status_code == 401 and "active" not in wrong.get_json()
