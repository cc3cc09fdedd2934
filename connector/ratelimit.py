"""Request rate limits shared by every worker and host: fixed-window counters in the database.

    retry_after = ratelimit.hit("oauth-client:abc", limit=60, window_seconds=60)
    if retry_after: answer 429 with Retry-After: retry_after

A window is [k*window_seconds, (k+1)*window_seconds) of UTC time, so every worker agrees on it
without coordination; a burst at a window's edge can reach twice the limit, which is fine for
a guard against guessing and floods. Counters of ended windows are deleted as new ones start.
`add` is the shared counter itself, for callers that count in batches (connector.scim_rate_limit).
"""
from __future__ import annotations

import math
import time
from datetime import datetime, timezone

from connector.db import retry_on_conflict, write_transaction
from connector.models import RateLimitCounter

MAX_KEY_LENGTH = 200


def hit(key: str, limit: int, window_seconds: int) -> int | None:
    """Count one request under `key`. None while the current window holds at most `limit`
    requests; otherwise the whole seconds (>= 1) until the window ends."""
    now = time.time()
    ends = window_end(now, window_seconds)
    if add(key, 1, ends) <= limit:
        return None
    return seconds_until(ends, now)


def window_end(now: float, window_seconds: int) -> float:
    """The end (epoch seconds) of the window holding `now`."""
    return (math.floor(now / window_seconds) + 1) * window_seconds


def seconds_until(ends: float, now: float) -> int:
    """Retry-After for a refusal in the window ending at `ends`: whole seconds, at least 1."""
    return max(1, math.ceil(ends - now))


def add(key: str, amount: int, ends: float) -> int:
    """Add `amount` requests to `key`'s counter of the window ending at `ends`; the counter's
    new total, counted by every worker and host."""
    total = _count(_storable(key), _naive_utc(ends), amount)
    if total == amount:  # this window's first count under the key: tidy ended windows
        _delete_ended(_naive_utc(time.time()))
    return total


def _storable(key: str) -> str:
    """The key as the counter's column can hold it: at most MAX_KEY_LENGTH characters, and no
    NUL (PostgreSQL refuses it in text; keys carry what a client sent, such as a client id)."""
    return key.replace("\x00", "\\0")[:MAX_KEY_LENGTH]


@retry_on_conflict
def _count(key: str, ends_at: datetime, amount: int) -> int:
    with write_transaction():
        (RateLimitCounter.insert(key=key, window_ends_at=ends_at, count=amount)
         .on_conflict(conflict_target=[RateLimitCounter.key, RateLimitCounter.window_ends_at],
                      update={RateLimitCounter.count: RateLimitCounter.count + amount})
         .execute())
        return (RateLimitCounter.select(RateLimitCounter.count)
                .where((RateLimitCounter.key == key) & (RateLimitCounter.window_ends_at == ends_at))
                .scalar())


@retry_on_conflict
def _delete_ended(now: datetime) -> None:
    RateLimitCounter.delete().where(RateLimitCounter.window_ends_at <= now).execute()


def _naive_utc(timestamp: float) -> datetime:
    moment = datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
