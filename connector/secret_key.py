"""The Flask secret key (it signs the session cookie of the OAuth login and consent pages).

Every worker on every host must sign with the same key, so it is generated once and kept in
the Setting table. It is read when a request first carries or sets a session cookie, never at
app creation (`ally-scim init` creates the app before the table exists) and never for requests
without a session (health checks keep working while the database is away).
"""
from __future__ import annotations

import secrets

from flask.sessions import SecureCookieSessionInterface

from connector.db import database, retry_on_conflict, write_transaction
from connector.models import Setting

SETTING_KEY = "flask_secret_key"


@retry_on_conflict
def shared_secret_key() -> str:
    """The key in the Setting table, created on first use (the first writer wins)."""
    with write_transaction():
        Setting.insert(key=SETTING_KEY, value=secrets.token_urlsafe(48)).on_conflict_ignore().execute()
        return Setting.get(Setting.key == SETTING_KEY).value


class SharedKeySessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the key loaded from the database on first use."""

    def open_session(self, app, request):
        if "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies:
            # Nothing to verify (every SCIM request): no signer is built, and the key is loaded
            # only if the session gets saved.
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        # What Flask's own save_session would end up doing for a session nothing stored, cleared
        # or read (every SCIM request), without first working out five cookie settings: nothing.
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)

    def get_signing_serializer(self, app):
        if not app.secret_key:
            app.secret_key = _load_key()
        return super().get_signing_serializer(app)


def _load_key() -> str:
    if not database.is_closed():
        return shared_secret_key()
    with database.connection_context():
        return shared_secret_key()


def init_app(app) -> None:
    app.session_interface = SharedKeySessionInterface()
