"""connector.ratelimit: fixed-window request counters shared through the database."""
import pytest

from connector import ratelimit
from connector.models import RateLimitCounter

# Windows are aligned to multiples of their length since the epoch; one this long does not end
# during a test run (the next boundary is in 2033).
LONG_WINDOW = 10 ** 9


def test_under_the_limit_then_over(db):
    assert [ratelimit.hit("k", 3, LONG_WINDOW) for _ in range(3)] == [None, None, None]
    retry = ratelimit.hit("k", 3, LONG_WINDOW)
    assert retry is not None and 1 <= retry <= LONG_WINDOW
    assert RateLimitCounter.get(RateLimitCounter.key == "k").count == 4


def test_keys_are_independent(db):
    for _ in range(2):
        ratelimit.hit("a", 1, LONG_WINDOW)
    assert ratelimit.hit("a", 1, LONG_WINDOW) is not None
    assert ratelimit.hit("b", 1, LONG_WINDOW) is None


def test_ended_windows_are_deleted_when_a_new_one_starts(db):
    from datetime import datetime

    RateLimitCounter.create(key="old", window_ends_at=datetime(2020, 1, 1), count=99)
    ratelimit.hit("fresh", 5, LONG_WINDOW)
    assert not RateLimitCounter.select().where(RateLimitCounter.key == "old").exists()


@pytest.mark.parametrize("key", ["x" * 500, "\x00" * 150])  # NUL: a client id as sent; PostgreSQL refuses it
def test_long_keys_are_cut_to_fit(db, key):
    assert ratelimit.hit(key, 1, LONG_WINDOW) is None
    assert ratelimit.hit(key, 1, LONG_WINDOW) is not None
