"""Rate limits for /scim/v2, per credential and per organisation (config `rate_limit`), shared
by every worker and host through connector.ratelimit's window counters in the database, but
without a database write per request.

Each worker process counts its requests in memory and adds them to the shared counter of the
current minute in one upsert, which also reads back the total of every worker:
- at least once a second (WRITE_SECONDS) while requests arrive, and
- as soon as its unwritten requests reach 1/HEADROOM_SHARE of what the limit still allows,
  so that close to the limit every request is written.
A request is refused (429 with Retry-After: the seconds left in the minute) when the shared
total last read plus the worker's unwritten requests would exceed the limit; it is not
counted, and costs no write beyond sending the worker's requests not yet written. The shared total only grows within a minute, so a
refusal is never premature. The lag is the other way: a worker sees the others' requests
of at most the last second, and each worker's unseen share is at most 1/HEADROOM_SHARE of the
remaining headroom, so up to HEADROOM_SHARE workers in all keep the limit to within a few
requests; with more, the total can pass it by about a second of their traffic.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import Flask, g

from connector import metrics, ratelimit
from connector.config import RateLimitSettings
from scim.blueprint import error_response
from scim.errors import TooManyRequests

WINDOW_SECONDS = 60
WRITE_SECONDS = 1.0
HEADROOM_SHARE = 16


def init_app(app: Flask, settings: RateLimitSettings) -> None:
    """Register the check; call right after oauth_tenancy.init_app, whose credential it limits."""
    if not settings.enabled:
        return
    limiter = SharedLimiter()

    @app.before_request
    def limit_scim_request():
        if "credential_key" not in g:  # not a /scim/v2 request
            return None
        now = time.time()
        limits = (("credential", f"scim-credential:{g.credential_key}", settings.per_credential_per_minute),
                  ("organisation", f"scim-organisation:{g.organisation.id}", settings.per_organisation_per_minute))
        for scope, key, limit in limits:
            retry_after = limiter.hit(key, limit, now)
            if retry_after is not None:
                metrics.count_rate_limit_refusal(scope)
                return error_response(TooManyRequests(
                    f"More than {limit} requests in a minute for this {scope}; "
                    f"retry after {retry_after} seconds.", retry_after))
        return None


@dataclass
class _Counter:
    window_ends: float
    shared: int = 0             # every worker's requests in the window, as last read
    writing: int = 0            # this worker's requests being added to it right now
    unwritten: int = 0          # this worker's requests not yet sent
    written_at: float = float("-inf")

    @property
    def seen(self) -> int:
        return self.shared + self.writing + self.unwritten


class SharedLimiter:
    """One worker's view of the shared per-key window counters (see the module doc). The
    database write happens outside the lock: the worker's other threads never wait for it."""

    def __init__(self):
        self._counters: dict[str, _Counter] = {}
        self._lock = threading.Lock()  # gunicorn's gthread workers serve requests on threads

    def hit(self, key: str, limit: int, now: float) -> int | None:
        """Count one request under `key`: None when allowed, else the Retry-After seconds."""
        ends = ratelimit.window_end(now, WINDOW_SECONDS)
        with self._lock:
            counter = self._counters.get(key)
            if counter is None or counter.window_ends != ends:
                counter = self._counters[key] = _Counter(ends)
            refused = counter.seen >= limit
            if not refused:
                counter.unwritten += 1
            batch = self._take_batch(counter, limit, now)
        while batch:  # requests that came in during a write may be due at once (near the limit)
            self._write(key, counter, batch)
            with self._lock:
                batch = self._take_batch(counter, limit, now)
        return ratelimit.seconds_until(ends, now) if refused or counter.seen > limit else None

    @staticmethod
    def _take_batch(counter: _Counter, limit: int, now: float) -> int:
        """The requests to write now; 0 when none is due or another thread is writing. At the
        limit every request not yet written is due: the other workers must see them."""
        headroom = limit - counter.seen
        due = (headroom <= 0 or now - counter.written_at >= WRITE_SECONDS
               or counter.unwritten >= max(1, headroom // HEADROOM_SHARE))
        if counter.writing or not counter.unwritten or not due:
            return 0
        batch, counter.writing, counter.unwritten, counter.written_at = counter.unwritten, counter.unwritten, 0, now
        return batch

    def _write(self, key: str, counter: _Counter, batch: int) -> None:
        try:
            total = ratelimit.add(key, batch, counter.window_ends)
        except Exception:
            with self._lock:  # counted again at the next write
                counter.writing, counter.unwritten = 0, counter.unwritten + batch
            raise
        with self._lock:
            counter.writing, counter.shared = 0, max(counter.shared, total)
