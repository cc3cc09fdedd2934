"""CSRF protection for the login and consent forms: a random token kept in the signed session
and echoed by each form, compared in constant time (synchronizer token pattern)."""
from __future__ import annotations

import hmac
import secrets

from flask import request, session

SESSION_KEY = "csrf"


class CSRFError(Exception):
    """A form came without the token this session issued (stale page, or a forged request)."""


def csrf_token() -> str:
    if SESSION_KEY not in session:
        session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def check_csrf() -> None:
    expected = session.get(SESSION_KEY)
    sent = request.form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CSRFError()
