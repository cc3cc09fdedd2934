"""OAuth 2.0 authorization server and resource protection for SCIM clients (authlib).

The application wires it with `init_app` and gives it everything it needs from outside:
the database, settings, how to authenticate an admin, how to name a tenant, where audit
events go and how to rate-limit. oauth/ never imports the application.
"""
from __future__ import annotations

import logging

from flask import Flask

from oauth.context import EXTENSION, Admin, Event, OAuthContext, current
from oauth.errors import CredentialError, CredentialNotFound
from oauth.protect import Credential, Refusal
from oauth.tenant_rows import TenantRows
from oauth.tenants import remove_tenant

__all__ = ["Admin", "Credential", "CredentialError", "CredentialNotFound", "Event", "Refusal", "TenantRows",
           "credential_for", "init_app", "refuse", "remove_tenant"]


def init_app(app: Flask, *, database, settings, authenticate_admin, describe_tenant, on_event, rate_limit,
             tenant_rows: TenantRows | None = None) -> None:
    """Bind the OAuth tables to `database` and serve the OAuth endpoints on `app`.

    settings: reads `public_url` and `oauth.{access_token_minutes, refresh_token_days,
        authorization_code_seconds, token_requests_per_minute}`.
    authenticate_admin(email, password) -> Admin | None: admins who may approve clients.
    describe_tenant(tenant) -> str | None: the organisation's name for the consent page.
    on_event(Event) -> None: audit events (never secrets).
    rate_limit(key, limit, window_seconds) -> seconds to wait | None: shared by all workers.
    tenant_rows: the application's row of a tenant, read with every credential as the
        Credential's `tenant_row` (oauth.tenant_rows); None: the application reads it itself.
    """
    from oauth import models
    from oauth.blueprint import bp
    from oauth.protect import build_protector
    from oauth.server import build_server

    models.database.initialize(database)
    ctx = OAuthContext(
        public_url=settings.public_url.rstrip("/"),
        access_token_seconds=settings.oauth.access_token_minutes * 60,
        refresh_token_seconds=settings.oauth.refresh_token_days * 86400,
        authorization_code_seconds=settings.oauth.authorization_code_seconds,
        token_requests_per_minute=settings.oauth.token_requests_per_minute,
        authenticate_admin=authenticate_admin, describe_tenant=describe_tenant, on_event=on_event,
        rate_limit=rate_limit)
    app.extensions[EXTENSION] = ctx
    ctx.server = build_server(app, ctx)
    ctx.protector = build_protector(tenant_rows)
    # The session cookie exists only for the admin login and consent pages.
    app.config.update(SESSION_COOKIE_PATH="/oauth", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=ctx.public_url.startswith("https://"))
    app.register_blueprint(bp)
    app.register_error_handler(Refusal, lambda refusal: refusal.response)
    # authlib logs issued tokens at DEBUG ("Issue token %r"); never let a token reach a log.
    logging.getLogger("authlib").setLevel(logging.INFO)


def credential_for(scope: str) -> Credential:
    """The current request's credential, if it carries `scope`; otherwise Refusal is raised,
    whose response is the SCIM error document (401 or 403) to answer with."""
    return current().protector.credential(scope)


def refuse(description: str) -> None:
    """Raise Refusal: 401 invalid_token with this (secret-free) description."""
    current().protector.refuse(description)
