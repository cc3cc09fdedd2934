"""Token revocation (RFC 7009), token introspection (RFC 7662) and the authorization server
metadata document (RFC 8414). Both token endpoints demand client authentication."""
from __future__ import annotations

import calendar

from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from oauth import issued, scopes
from oauth.context import OAuthContext
from oauth.models import AUTHORIZATION_CODE, CLIENT_AUTH_METHODS, CLIENT_CREDENTIALS, REFRESH_TOKEN, AccessToken

ACCESS = "access_token"
REFRESH = "refresh_token"


class PresentedToken:
    """An issued token as presented: the access token or the refresh token of one row. Each has
    its own expiry and revocation, and revoking a refresh token revokes its whole grant."""

    def __init__(self, row: AccessToken, kind: str):
        self.row = row
        self.kind = kind

    def check_client(self, client):
        return self.row.check_client(client)

    def get_scope(self):
        return self.row.scope

    def is_expired(self):
        return self.row.is_expired() if self.kind == ACCESS else not self.row.refresh_usable()

    def is_revoked(self):
        return self.row.is_revoked() if self.kind == ACCESS else self.row.refresh_revoked_at is not None


def find_presented(token_string: str) -> PresentedToken | None:
    """The token a client presents, whatever its type hint (RFC 7009 §2.1 allows ignoring it)."""
    row = issued.find_access_token(token_string)
    if row is not None:
        return PresentedToken(row, ACCESS)
    row = issued.find_refresh_token(token_string)
    return PresentedToken(row, REFRESH) if row is not None else None


class RevocationEndpoint(_RevocationEndpoint):
    CLIENT_AUTH_METHODS = list(CLIENT_AUTH_METHODS)

    def query_token(self, token_string, token_type_hint):
        return find_presented(token_string)

    def revoke_token(self, token, request):
        """RFC 7009 §2.1: revoking a refresh token "SHOULD also invalidate all access tokens
        based on the same authorization grant"; an access token is revoked alone."""
        if token.kind == REFRESH:
            issued.revoke_family(token.row.family, request.client, reason="revoked by the client")
        else:
            issued.revoke_access_token(token.row, reason="revoked by the client")


class IntrospectionEndpoint(_IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = list(CLIENT_AUTH_METHODS)

    def query_token(self, token_string, token_type_hint):
        return find_presented(token_string)

    def check_permission(self, token, client, request):
        """RFC 7662 §2.2: a client learns only about tokens issued to itself; anything else is
        reported as inactive."""
        return token.check_client(client)

    def introspect_token(self, token):
        row = token.row
        expires = row.expires_at if token.kind == ACCESS else row.refresh_expires_at
        return {
            "active": True,
            "scope": row.scope,
            "client_id": row.client.client_id,
            "token_type": "Bearer" if token.kind == ACCESS else REFRESH,
            "exp": _epoch(expires),
            "iat": _epoch(row.issued_at),
            "sub": row.admin_id or row.client.client_id,
            "iss": self.server.ctx.public_url,
        }


def metadata(ctx: OAuthContext) -> dict:
    """RFC 8414 §2: what this authorization server offers."""
    auth_methods = list(CLIENT_AUTH_METHODS)
    return {
        "issuer": ctx.public_url,
        "authorization_endpoint": ctx.url("/oauth/authorize"),
        "token_endpoint": ctx.url("/oauth/token"),
        "revocation_endpoint": ctx.url("/oauth/revoke"),
        "introspection_endpoint": ctx.url("/oauth/introspect"),
        "scopes_supported": list(scopes.SUPPORTED),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
    }


def _epoch(moment) -> int:
    return calendar.timegm(moment.utctimetuple())
