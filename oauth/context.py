"""What oauth/ is given by the application that wires it (oauth.init_app), and the audit events
it reports back. oauth/ never imports the application; it calls these instead."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask import current_app

EXTENSION = "ally_oauth"


@dataclass(frozen=True)
class Event:
    """Something worth an audit entry. Never carries a secret: ids, names and scopes only.
    `actor` is None when the caller's own context names who acted (e.g. the CLI)."""

    action: str
    tenant: str
    target_type: str
    target_id: str
    target_label: str | None = None
    actor: str | None = None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Admin:
    """An administrator who may approve clients: `tenant` is the only organisation they can grant."""

    id: str
    tenant: str
    email: str


@dataclass
class OAuthContext:
    public_url: str
    access_token_seconds: int
    refresh_token_seconds: int
    authorization_code_seconds: int
    token_requests_per_minute: int
    # (email, password) -> Admin | None: only administrators who may approve clients.
    authenticate_admin: Callable[[str, str], Admin | None]
    # tenant -> the organisation's display name, or None when it no longer exists.
    describe_tenant: Callable[[str], str | None]
    # Event -> None: record it (the connector writes its audit trail).
    on_event: Callable[[Event], None]
    # (key, limit, window_seconds) -> seconds to wait, or None when under the limit.
    rate_limit: Callable[[str, int, int], int | None]
    # Built by init_app from the above: the authlib AuthorizationServer and ResourceProtector.
    server: object = None
    protector: object = None

    def url(self, path: str) -> str:
        return self.public_url + path


def current() -> OAuthContext:
    return current_app.extensions[EXTENSION]


def emit(event: Event) -> None:
    current().on_event(event)
