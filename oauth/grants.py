"""authlib grant subclasses: where the grants read and write our tables.

All three accept client_secret_basic and client_secret_post (authlib's client-credentials
grant alone would take only Basic; Entra's "How credentials are sent" offers both).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN

from oauth import hashing, issued
from oauth.context import current
from oauth.models import CLIENT_AUTH_METHODS, AuthorizationCode, utcnow


@dataclass(frozen=True)
class Grantor:
    """The admin who approved an authorization-code grant, as authlib's "user"."""

    id: str
    tenant: str


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """RFC 6749 §4.4, Entra's "OAuth2 Client Credentials Grant"."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(CLIENT_AUTH_METHODS)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """RFC 6749 §4.1, Okta's "OAuth 2" mode."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(CLIENT_AUTH_METHODS)

    def generate_authorization_code(self):
        return hashing.new_secret(hashing.PREFIX_AUTHORIZATION_CODE)

    def save_authorization_code(self, code, request):
        payload = request.payload.data
        AuthorizationCode.create(
            client=request.client, tenant=request.client.tenant, admin_id=request.user.id,
            code_hash=hashing.hash_secret(code), redirect_uri=request.payload.redirect_uri, scope=request.scope,
            code_challenge=payload.get("code_challenge"), code_challenge_method=payload.get("code_challenge_method"),
            expires_at=utcnow() + timedelta(seconds=current().authorization_code_seconds))

    def query_authorization_code(self, code, client):
        """RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization
        server MUST deny the request and SHOULD revoke (when possible) all tokens previously
        issued based on that authorization code." """
        row = AuthorizationCode.get_or_none(
            (AuthorizationCode.code_hash == hashing.hash_secret(code)) & (AuthorizationCode.client == client))
        if row is None or row.expires_at <= utcnow():
            return None
        if row.used_at is not None:
            issued.revoke_family(row.family, client, reason="authorization code used twice")
            return None
        return row

    def validate_token_request(self):
        super().validate_token_request()
        code = self.request.authorization_code
        if not issued.claim_code(code):
            issued.revoke_family(code.family, self.request.client, reason="authorization code used twice")
            raise InvalidGrantError("The authorization code has already been used.")

    def delete_authorization_code(self, authorization_code):
        # The code was marked used when claimed (it must stay to recognise a replay); what goes
        # now is every code past its expiry.
        AuthorizationCode.delete().where(AuthorizationCode.expires_at < utcnow()).execute()

    def authenticate_user(self, authorization_code):
        return Grantor(authorization_code.admin_id, authorization_code.tenant)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """RFC 6749 §6 with rotation: each refresh token works once and brings a new one
    (RFC 9700 §4.14.2); presenting a used one revokes the whole family."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(CLIENT_AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        row = issued.find_refresh_token(refresh_token)
        if row is None:
            return None
        if row.refresh_revoked_at is not None:
            issued.revoke_family(row.family, row.client, reason="refresh token used twice")
            return None
        return row if row.refresh_usable() else None

    def validate_token_request(self):
        super().validate_token_request()
        row = self.request.refresh_token
        if not issued.claim_refresh_token(row):
            issued.revoke_family(row.family, self.request.client, reason="refresh token used twice")
            raise InvalidGrantError("The refresh token has already been used.")

    def authenticate_user(self, refresh_token):
        return Grantor(refresh_token.admin_id, refresh_token.tenant)

    def revoke_old_credential(self, refresh_token):
        # The refresh token was retired when claimed; its access token goes with it, since the
        # client has just received the pair that replaces both.
        issued.revoke_access_token(refresh_token)


class S256CodeChallenge(CodeChallenge):
    """PKCE (RFC 7636) allowed, not required, for these confidential clients; only S256 is
    offered (RFC 9700 §2.1.1), so a challenge must name its method."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        challenge = data.get("code_challenge")
        # authlib matches its RFC 7636 §4.2 pattern with re.match, whose "$" also matches before a
        # final newline: a challenge one character too long (or with the newline kept) would be
        # stored and never verified. Matched whole, it is not.
        if challenge and not CODE_CHALLENGE_PATTERN.fullmatch(challenge):
            raise InvalidRequestError("Invalid 'code_challenge'")
        if challenge and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Unsupported 'code_challenge_method': use S256")
