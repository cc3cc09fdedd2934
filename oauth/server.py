"""The authorization server: authlib's Flask AuthorizationServer told where our clients and
tokens live, how long tokens last, and which grants and endpoints it offers."""
from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749 import InvalidScopeError, OAuth2Request
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from flask import request as flask_request

from oauth import hashing, issued, scopes
from oauth.context import OAuthContext
from oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint
from oauth.grants import AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant, S256CodeChallenge
from oauth.models import Client

# Request parameters authlib repeats in an error description it builds itself. RFC 6749 §4.1.2.1
# allows only printable ASCII without '"' and '\\' there, and authlib raises ValueError (a 500)
# rather than build such an error, so these are checked before authlib reads them.
REPEATED_BY_AUTHLIB = ("redirect_uri", "response_type")


class PublicURLRequest(FlaskOAuth2Request):
    """authlib refuses a request whose URL is not https (RFC 6749 §3.1, §3.2). Behind a reverse
    proxy that ends TLS, Flask sees http; so authlib is shown the address the client used:
    the configured public_url plus this request's path and query."""

    def __init__(self, request, public_url: str):
        OAuth2Request.__init__(self, method=request.method, uri=public_url + request.full_path.rstrip("?"),
                               headers=request.headers)
        self._request = request
        self.payload = FlaskOAuth2Payload(request)


class AllyAuthorizationServer(AuthorizationServer):
    def __init__(self, ctx: OAuthContext):
        self.ctx = ctx
        super().__init__()

    def query_client(self, client_id):
        if not isinstance(client_id, str) or "\x00" in client_id:
            return None  # no client has it, and PostgreSQL refuses NUL in a text parameter
        return Client.get_or_none(Client.client_id == client_id)

    def save_token(self, token, request):
        return issued.save(token, request)

    def create_oauth2_request(self, request):
        return PublicURLRequest(flask_request, self.ctx.public_url)

    def create_bearer_token_generator(self, config):
        """Every grant's access tokens live oauth.access_token_minutes; authlib's own defaults
        (10 days for client credentials and authorization codes) never apply."""
        return BearerTokenGenerator(
            access_token_generator=lambda **_: hashing.new_secret(hashing.PREFIX_ACCESS_TOKEN),
            refresh_token_generator=lambda **_: hashing.new_secret(hashing.PREFIX_REFRESH_TOKEN),
            expires_generator=lambda client, grant_type: self.ctx.access_token_seconds)

    def validate_requested_scope(self, scope):
        """RFC 6749 §5.2 invalid_scope, naming the scopes this server does not know."""
        unknown = sorted(set(scopes.to_tuple(scope)) - set(scopes.SUPPORTED))
        if unknown:
            raise InvalidScopeError(f"Unknown scope {describable(', '.join(unknown))}; this server offers "
                                    f"{scopes.to_text(scopes.SUPPORTED)}")


def describable(text: str) -> str:
    """Text for an OAuth error description: each character RFC 6749 §4.1.2.1 does not allow
    there (outside printable ASCII, '"' or '\\') becomes '?'."""
    forbidden = set(invalid_error_characters(text))
    return "".join("?" if char in forbidden else char for char in text)


def unrepeatable_parameter(values) -> str | None:
    """The first parameter authlib would repeat in an error description and cannot (see
    REPEATED_BY_AUTHLIB), or None."""
    return next((name for name in REPEATED_BY_AUTHLIB if invalid_error_characters(values.get(name) or "")), None)


def build_server(app, ctx: OAuthContext) -> AllyAuthorizationServer:
    server = AllyAuthorizationServer(ctx)
    server.init_app(app)
    server.scopes_supported = list(scopes.SUPPORTED)
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=False)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(IntrospectionEndpoint)
    return server

