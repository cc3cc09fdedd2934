"""Refusals of the credential-management API (tokens, clients); the message says why and is
safe to show: it never contains a secret."""
from __future__ import annotations


class CredentialError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CredentialNotFound(CredentialError):
    """The token, client or secret named does not exist."""


MAX_NAME_LENGTH = 100


def checked_name(name: str | None, kind: str) -> str:
    """A token's or client's name, trimmed; refused when empty or too long."""
    name = (name or "").strip()
    if not name:
        raise CredentialError(f"A {kind} needs a name")
    if len(name) > MAX_NAME_LENGTH:
        raise CredentialError(f"A {kind} name has at most {MAX_NAME_LENGTH} characters")
    return name
