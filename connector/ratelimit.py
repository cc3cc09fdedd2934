"""Request rate limits shared by every worker and host: fixed-window counters in the database.

    retry_after = ratelimit.hit("oauth-client:abc", limit=60, window_seconds=60)
    if retry_after: answer 429 with Retry-After: retry_after

A window is [k*window_seconds, (k+1)*window_seconds) of UTC time, so every worker agrees on it
without coordination; a burst at a window's edge can reach twice the limit, which is fine for
a guard against guessing and floods. Counters of ended windows are deleted as new ones start.
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
    window_end = (math.floor(now / window_seconds) + 1) * window_seconds
    ends_at = _naive_utc(window_end)
    count = _count(key[:MAX_KEY_LENGTH], ends_at)
    if count == 1:
        _delete_ended(_naive_utc(now))
    if count <= limit:
        return None
    return max(1, math.ceil(window_end - now))


@retry_on_conflict
def _count(key: str, ends_at: datetime) -> int:
    with write_transaction():
        (RateLimitCounter.insert(key=key, window_ends_at=ends_at, count=1)
         .on_conflict(conflict_target=[RateLimitCounter.key, RateLimitCounter.window_ends_at],
                      update={RateLimitCounter.count: RateLimitCounter.count + 1})
         .execute())
        return (RateLimitCounter.select(RateLimitCounter.count)
                .where((RateLimitCounter.key == key) & (RateLimitCounter.window_ends_at == ends_at))
                .scalar())


def _delete_ended(now: datetime) -> None:
    RateLimitCounter.delete().where(RateLimitCounter.window_ends_at <= now).execute()


def _naive_utc(timestamp: float) -> datetime:
    moment = datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
