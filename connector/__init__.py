"""Ally's SCIM 2.0 provisioning connector: the Ally domain, and the app factory that wires
the SCIM protocol (scim/) and the OAuth 2.0 server (oauth/) onto it."""
from __future__ import annotations

from flask import Flask

from connector import db, health
from connector.config import Settings, config_path_from_env, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """The application factory: the only place that knows every part."""
    settings = settings or load_settings(config_path_from_env())
    app = Flask(__name__)
    app.config["ALLY_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.scim.max_body_bytes
    app.json.sort_keys = False
    database = db.bind(settings.database_url)
    db.init_app(app, database)
    app.register_blueprint(health.bp)
    return app


def settings_of(app: Flask) -> Settings:
    return app.config["ALLY_SETTINGS"]
