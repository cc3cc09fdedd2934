"""Read what is left of a request body before answering, so a refused upload is not a reset.

When the app answers without reading the body (413 for a body over scim.max_body_bytes, 401
before authentication, 404) and the server then closes the connection (HTTP/1.0, or a proxy
that does not keep upstream connections alive), the kernel resets a socket closed with unread
data: the client, or nginx in front, sees a broken pipe instead of the answer, and nginx marks
the whole upstream as failed. So the unread rest is read and dropped, up to DRAIN_FACTOR times
the body limit; past that, the connection is closed (a reverse proxy should refuse such bodies
itself: README "TLS and the reverse proxy").
"""
from __future__ import annotations

from flask import Flask

DRAIN_FACTOR = 16
CHUNK = 64 * 1024


def init_app(app: Flask, max_body_bytes: int) -> None:
    app.wsgi_app = DrainingMiddleware(app.wsgi_app, DRAIN_FACTOR * max_body_bytes)


class DrainingMiddleware:
    def __init__(self, wsgi_app, limit: int):
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ, start_response):
        body = CountingInput(environ.get("wsgi.input"))
        environ["wsgi.input"] = body
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            _drain(body, _unread(environ, body), self.limit)


class CountingInput:
    """wsgi.input, counting the bytes the app read."""

    def __init__(self, stream):
        self.stream = stream
        self.consumed = 0

    def read(self, *args):
        return self._counted(self.stream.read(*args))

    def readline(self, *args):
        return self._counted(self.stream.readline(*args))

    def readlines(self, *args):
        lines = self.stream.readlines(*args)
        self.consumed += sum(len(line) for line in lines)
        return lines

    def __iter__(self):
        for line in self.stream:
            yield self._counted(line)

    def _counted(self, data):
        self.consumed += len(data)
        return data


def _unread(environ, body: CountingInput) -> int | None:
    """Bytes of the body not read yet; None when unknown but safe to read to the end."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
    if length:
        return max(0, length - body.consumed)
    return None if environ.get("wsgi.input_terminated") else 0


def _drain(body: CountingInput, unread: int | None, limit: int) -> None:
    if body.stream is None or unread == 0 or (unread is not None and unread > limit):
        return
    budget = limit if unread is None else unread
    try:
        while budget > 0:
            chunk = body.stream.read(min(CHUNK, budget))
            if not chunk:
                return
            budget -= len(chunk)
    except (OSError, ValueError):
        return  # the client went away: nothing to protect
