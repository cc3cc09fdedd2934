"""Ally's SCIM 2.0 provisioning connector: the Ally domain, and the app factory that wires
the SCIM protocol (scim/) and the OAuth 2.0 server (oauth/) onto it."""
from __future__ import annotations

from flask import Flask

import oauth
from connector import (admin_signin, database_unavailable, db, health, http_errors, metrics, oauth_tenancy, ratelimit,
                       request_log, scim_rate_limit, secret_key, unread_bodies)
from connector.config import Settings, config_path_from_env, load_settings
from connector.flask_app import ConnectorFlask
from connector.logs import configure_logging


def create_app(settings: Settings | None = None) -> Flask:
    """The application factory: the only place that knows every part."""
    # These import the directory, whose modules import settings_of from here.
    from connector import audit_api, join, listing_positions, scim_app

    settings = settings or load_settings(config_path_from_env())
    configure_logging(settings.log_level)
    app = ConnectorFlask(__name__)
    app.config["ALLY_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.scim.max_body_bytes
    app.json.sort_keys = False
    request_log.init_app(app)  # first: every later hook and error can name the request id
    database = db.bind(settings.database_url, settings.server.statement_timeout_seconds)
    db.init_app(app, database)
    listing_positions.forget()  # positions of another database this process served before
    metrics.init_app(app, settings.metrics)
    secret_key.init_app(app)
    oauth.init_app(app, database=database, settings=settings, authenticate_admin=admin_signin.authenticate,
                   describe_tenant=oauth_tenancy.describe_tenant, on_event=oauth_tenancy.record_event,
                   rate_limit=ratelimit.hit, tenant_rows=oauth_tenancy.TENANT_ROWS)
    oauth_tenancy.init_app(app)
    scim_rate_limit.init_app(app, settings.rate_limit)  # right after the credential check: it limits the credential
    scim_app.init_app(app, settings)  # after the credential check it relies on, before http_errors
    app.register_blueprint(health.bp)
    app.register_blueprint(join.bp)
    app.register_blueprint(audit_api.bp)
    http_errors.init_app(app)  # it takes over app-level error handlers outside /scim/v2
    database_unavailable.init_app(app)  # after http_errors: it falls back on the handlers as they are then
    unread_bodies.init_app(app, settings.scim.max_body_bytes)  # outermost WSGI layer
    return app


def settings_of(app: Flask) -> Settings:
    return app.config["ALLY_SETTINGS"]
