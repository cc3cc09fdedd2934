"""Structured logs: one JSON object per line on stderr, the same format for every logger (ours,
Flask's, peewee's, gunicorn's), so operators parse one shape.

Secrets and personal data never reach a log line: every string that goes out passes through
`redact`, which masks email addresses, bearer/basic credentials, secret query parameters and
passwords in URLs. Callers still log only what they mean to (no request bodies, no headers);
the mask is the net under them.
"""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone

from flask import g, has_request_context

from connector.clock import isoformat

REDACTED = "<redacted>"
_SECRET_NAMES = r"(?:access_|refresh_|id_)?token|client_secret|secret|password|code_verifier|assertion"
_REDACTIONS = (
    # scheme://user:password@host (database URLs in error messages)
    (re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@"), REDACTED + "@"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # form and query parameters: ...&client_secret=...; JSON members: "password": "..."
    (re.compile(rf"(?i)(^|[?&;\s])({_SECRET_NAMES}|code)=[^&\s\"',;]+"), r"\1\2=" + REDACTED),
    (re.compile(rf'(?i)"({_SECRET_NAMES})"\s*:\s*"[^"]*"'), r'"\1": "' + REDACTED + '"'),
    (re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "<email>"),
    # Ally's own credentials wherever they appear (oauth.hashing prefixes: allyt_, allya_, ...)
    (re.compile(r"\bally[tarsc]_[A-Za-z0-9_-]{16,}"), REDACTED),
)
# Text without any of these cannot match a pattern above (the common case, checked once): each
# pattern needs "://", a scheme name, "=", a double quote, "@" or a credential prefix. (A bare
# ":" is not among them: the client label of every request line, "token:<name>", has one.)
_MAY_HOLD_SECRETS = re.compile(r'[@="]|://|bearer|basic|ally[tarsc]_', re.IGNORECASE)
# One encoder for every line (json.dumps with default= builds a new one per call, which costs as
# much as encoding a request line). A value JSON cannot hold is written as its text, redacted.
_ENCODER = json.JSONEncoder(default=lambda value: redact(str(value)))


def redact(text: str) -> str:
    """Mask email addresses, credentials and secret parameters in a piece of log text."""
    if not _MAY_HOLD_SECRETS.search(text):
        return text
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: time (UTC ISO 8601), level, logger, message, the structured
    `fields` the caller passed (`extra={"fields": {...}}`), the current request id, and the
    exception's traceback when there is one. Every string is redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _current_request_id()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # The time and level are ours; only the rest can carry what a caller or a client wrote.
        return _ENCODER.encode({"time": isoformat(datetime.fromtimestamp(record.created, timezone.utc)),
                                "level": record.levelname, **_redacted(entry)})


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment of writing (test runners swap it)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure_logging(level: str) -> None:
    """Send every logger's records through one JSON handler on stderr at `level`. Safe to call
    again (each app built in one process): the handler is added once, the level follows."""
    # What the JSON line leaves out need not be found out for every record: the caller's file and
    # line (a walk up the stack), thread and process names (the logging HOWTO, "Optimization").
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    if not any(isinstance(handler, _StderrHandler) for handler in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)


def raise_level_to(level: str) -> None:
    """Drop records below `level` from now on (a stricter configured level stays)."""
    root = logging.getLogger()
    root.setLevel(max(root.level, logging.getLevelName(level)))


def _redacted(entry: dict) -> dict:
    """The entry with every string in it redacted. Its top-level strings (every string of a
    request line) are checked together once; only when that check finds something, or a value
    nests strings deeper, does each string go through `redact`."""
    texts = []
    for value in entry.values():
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, (dict, list, tuple)):
            return _clean(entry)
    # Joined by a newline, which no quick-check token holds: a token found in one string is
    # found in the whole, and one spanning two strings only sends the entry the slow way.
    if _MAY_HOLD_SECRETS.search("\n".join(texts)):
        return _clean(entry)
    return entry


def _clean(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    return value


def _current_request_id() -> str | None:
    if has_request_context():
        return g.get("request_id")
    return None
