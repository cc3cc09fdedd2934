"""Authorization server metadata (RFC 8414) at /.well-known/oauth-authorization-server."""
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata


def test_metadata_document(client, db):
    """RFC 8414 §3.2: a JSON object with the metadata; §2: issuer REQUIRED, https, no query."""
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = response.get_json()
    assert document == {
        "issuer": "https://ally.test",
        "authorization_endpoint": "https://ally.test/oauth/authorize",
        "token_endpoint": "https://ally.test/oauth/token",
        "revocation_endpoint": "https://ally.test/oauth/revoke",
        "introspection_endpoint": "https://ally.test/oauth/introspect",
        "scopes_supported": ["scim:read", "scim:write", "audit:read", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }
    AuthorizationServerMetadata(document).validate()


def test_metadata_follows_public_url(config_data, request):
    config_data["public_url"] = "https://scim.example.com:8443/"
    client = request.getfixturevalue("client")
    document = client.get("/.well-known/oauth-authorization-server").get_json()
    assert document["issuer"] == "https://scim.example.com:8443"
    assert document["token_endpoint"] == "https://scim.example.com:8443/oauth/token"
