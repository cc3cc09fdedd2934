"""Resource protection for the SCIM API: authlib's ResourceProtector with a validator that looks
tokens up by hash, and errors shaped as SCIM error documents (RFC 7644 §3.12) instead of OAuth
JSON, keeping the WWW-Authenticate header RFC 6750 §3 asks for."""
from __future__ import annotations

import json
from dataclasses import dataclass

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import MissingAuthorizationError, UnsupportedTokenTypeError
from authlib.oauth2.rfc6749.requests import JsonRequest
from authlib.oauth2.rfc6750 import BearerTokenValidator, InsufficientScopeError, InvalidTokenError
from flask import Response, request

from oauth import issued, scopes, tokens
from oauth.tenant_rows import ATTRIBUTE as TENANT_ROW, TenantRows

REALM = "Ally SCIM"
SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_CONTENT_TYPE = "application/scim+json"
NO_CREDENTIALS = "Authentication required: send the token as 'Authorization: Bearer <token>'."
NOT_BEARER = "Only bearer tokens are accepted: send the token as 'Authorization: Bearer <token>'."


class Refusal(Exception):
    """The request's credentials are refused; `response` is the SCIM error to send. A plain
    exception rather than an HTTPException, so no application-wide HTTP error handler reshapes
    it; oauth.init_app registers the handler that sends the response as it is."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


@dataclass(frozen=True)
class Credential:
    """Who is calling: `label` names the credential ("token:Okta", "client:Entra"), `tenant` the
    one organisation it may reach, `scopes` what it may do there, `key` the connection's stable
    identity ("token:<id>", "client:<client_id>") for settings the application keeps about it.
    `tenant_row`: the application's row for the tenant, read with the credential when init_app
    was given `tenant_rows` (None when it names no row, or without `tenant_rows`)."""

    label: str
    tenant: str
    scopes: tuple[str, ...]
    key: str = ""
    tenant_row: object = None


class MissingScopeError(InsufficientScopeError):
    """RFC 6750 §3.1 insufficient_scope (403), with the challenge naming the scope needed."""

    def __init__(self, scope: str, realm: str):
        super().__init__(f"This request needs the scope {scope}, which the token does not carry.")
        self.scope = scope
        self.realm = realm

    def get_headers(self):
        challenge = f'Bearer realm="{self.realm}", error="{self.error}", scope="{self.scope}"'
        return super().get_headers() + [("WWW-Authenticate", challenge)]


class HashedBearerTokenValidator(BearerTokenValidator):
    """RFC 6750: finds a long-lived token or an issued access token by the hash of what was
    presented (the database never sees the token itself), then checks state and scope."""

    def __init__(self, realm: str, tenant_rows: TenantRows | None):
        super().__init__(realm=realm)
        self.tenant_rows = tenant_rows

    def authenticate_token(self, token_string):
        return (tokens.find_by_secret(token_string, self.tenant_rows)
                or issued.find_access_token(token_string, self.tenant_rows))

    def validate_token(self, token, scopes, request):
        # RFC 6750 §3.1: invalid_token (401) for unknown, expired or revoked tokens; the detail
        # says which, so an IdP admin can tell a typo from an expiry.
        if token is None:
            raise self._invalid("The bearer token is not recognised.")
        if token.is_revoked():
            raise self._invalid("The bearer token has been revoked.")
        if token.is_expired():
            raise self._invalid("The bearer token has expired.")
        if self.scope_insufficient(token.get_scope(), scopes):
            raise MissingScopeError(" ".join(scopes), realm=self.realm)

    def _invalid(self, description: str) -> InvalidTokenError:
        return InvalidTokenError(description, realm=self.realm)


class ScimResourceProtector(ResourceProtector):
    def credential(self, scope: str) -> Credential:
        """The request's credential if it carries `scope`; else Refusal (SCIM 401/403)."""
        try:
            # authlib's check, given what it reads (the method and headers): acquire_token's Flask
            # request wrapper would also work out the full URL, a tenth of a SCIM read's time.
            token = self.validate_request(scopes=[scope], request=JsonRequest(request.method, request.path,
                                                                               request.headers))
        except OAuth2Error as error:
            self.raise_error_response(error)
        return Credential(token.label, token.tenant, scopes.to_tuple(token.get_scope()), token.key,
                          getattr(token, TENANT_ROW, None))

    def refuse(self, description: str) -> None:
        """Refuse the request with 401 invalid_token, for reasons only the application knows."""
        self.raise_error_response(InvalidTokenError(description, realm=REALM))

    def raise_error_response(self, error):
        status = error.status_code
        body = {"schemas": [SCIM_ERROR_SCHEMA], "status": str(status), "detail": _detail(error)}
        headers = [(name, value) for name, value in error.get_headers()
                   if name not in ("Content-Type", "WWW-Authenticate")]
        headers += [("Content-Type", SCIM_CONTENT_TYPE), ("WWW-Authenticate", _challenge(error))]
        raise Refusal(Response(json.dumps(body), status=status, headers=headers))


def build_protector(tenant_rows: TenantRows | None = None) -> ScimResourceProtector:
    protector = ScimResourceProtector()
    protector.register_token_validator(HashedBearerTokenValidator(REALM, tenant_rows))
    return protector


def _detail(error: OAuth2Error) -> str:
    if isinstance(error, MissingAuthorizationError):
        return NO_CREDENTIALS
    if isinstance(error, UnsupportedTokenTypeError):
        return NOT_BEARER
    return error.get_error_description()


def _challenge(error: OAuth2Error) -> str:
    """RFC 6750 §3: a request with no (or no bearer) credentials gets the bare challenge ("SHOULD
    NOT include an error code"); the others keep the error attributes authlib puts there."""
    if isinstance(error, (MissingAuthorizationError, UnsupportedTokenTypeError)):
        return f'Bearer realm="{REALM}"'
    return dict(error.get_headers()).get("WWW-Authenticate", f'Bearer realm="{REALM}"')
