"""The OAuth 2.0 endpoints: token, authorization (with the admin login and consent pages),
revocation, introspection and the RFC 8414 metadata document. Views parse, call and render."""
from __future__ import annotations

from authlib.oauth2.rfc6749 import InsecureTransportError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import Blueprint, jsonify, request

from oauth import consent
from oauth.context import current
from oauth.csrf import CSRFError
from oauth.endpoints import metadata

bp = Blueprint("oauth", __name__, template_folder="templates")
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
STALE_FORM = "This form has expired or did not come from this page. Go back, reload the page and try again."


@bp.post("/oauth/token")
def token():
    """RFC 6749 §3.2; limited per client against secret guessing."""
    return _malformed_authorization() or _rate_limited() or current().server.create_token_response()


@bp.post("/oauth/revoke")
def revoke():
    """RFC 7009 §2."""
    return _malformed_authorization() or _rate_limited() or current().server.create_endpoint_response("revocation")


@bp.post("/oauth/introspect")
def introspect():
    """RFC 7662 §2."""
    return _malformed_authorization() or _rate_limited() or current().server.create_endpoint_response("introspection")


@bp.get("/.well-known/oauth-authorization-server")
def server_metadata():
    """RFC 8414 §3."""
    return jsonify(metadata(current()))


bp.add_url_rule("/oauth/authorize", view_func=consent.authorize, methods=["GET", "POST"])
bp.add_url_rule("/oauth/login", view_func=consent.login, methods=["GET", "POST"])
bp.add_url_rule("/oauth/logout", view_func=consent.logout, methods=["POST"])


@bp.after_request
def no_store_no_framing(response):
    """Token responses and consent pages are never cached (RFC 6749 §5.1) or framed."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.errorhandler(CSRFError)
def stale_form(error):
    return consent.error_page(STALE_FORM, 400)


@bp.errorhandler(InsecureTransportError)
def insecure_transport(error):
    """authlib refuses plain http except on loopback; public_url tells it how clients reach us."""
    return jsonify(error="insecure_transport",
                   error_description="OAuth 2.0 needs https: set public_url to the https address clients use"), 400


def _malformed_authorization():
    """401 invalid_client for an Authorization header authlib cannot read: it raises (a 500)
    on one word followed by spaces ("Bearer ") and on Basic credentials that are not UTF-8."""
    try:
        extract_basic_authorization(request.headers)
    except ValueError:  # UnicodeDecodeError included
        response = jsonify(error="invalid_client", error_description="The Authorization header is malformed.")
        response.status_code = 401
        return response
    return None


def _rate_limited():
    """429 with Retry-After once a client (by its client_id) exceeds
    oauth.token_requests_per_minute across the client-authenticating endpoints."""
    ctx = current()
    retry = ctx.rate_limit(f"oauth-client:{_presented_client_id()}", ctx.token_requests_per_minute, 60)
    if retry is None:
        return None
    response = jsonify(error="temporarily_unavailable",
                       error_description=f"Too many requests for this client; retry in {retry} seconds")
    response.status_code = 429
    response.headers["Retry-After"] = str(retry)
    return response


def _presented_client_id() -> str:
    client_id, _ = extract_basic_authorization(request.headers)
    client_id = client_id or request.form.get("client_id") or f"address:{request.remote_addr}"
    return client_id[:128]
