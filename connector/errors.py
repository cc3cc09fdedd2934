"""Domain errors of the Ally directory. Each carries the exact text an Ally admin would see;
the SCIM backends map them to SCIM errors and the CLI prints them (exit status 1)."""
from __future__ import annotations


class AllyError(Exception):
    """A refused operation. `message` is shown to the person or IdP that asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(AllyError):
    """The thing named does not exist in this organisation."""
