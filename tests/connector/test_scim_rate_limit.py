"""Rate limits on /scim/v2 (config `rate_limit`): per credential and per organisation, shared by
every worker through the database, answered with 429, Retry-After and a SCIM error document.
Two apps built by the factory over one database stand for two gunicorn workers."""
from __future__ import annotations

import threading
import time

import pytest

from connector import create_app, metrics, ratelimit
from connector.config import settings_from_dict
from connector.db import database
from connector.models import RateLimitCounter
from connector.scim_rate_limit import HEADROOM_SHARE, WINDOW_SECONDS, WRITE_SECONDS, SharedLimiter
from tests.helpers import assert_scim_error
from tests.oauth.helpers import acme, bearer_token


@pytest.fixture
def limited_app(config_data):
    """An app (a "worker") over this test's database with the given `rate_limit` section."""

    def build(**rate_limit):
        app = create_app(settings_from_dict({**config_data, "rate_limit": rate_limit}))
        app.config["TESTING"] = True
        return app

    return build


@pytest.fixture
def tokens(app):
    """new_token(name): a bearer token of the acme organisation (its own credential)."""

    def new_token(name="Okta"):
        with app.app_context():
            database.connect(reuse_if_open=True)
            token = bearer_token(acme(), name=name)
            database.close()
        return token

    return new_token


@pytest.fixture(autouse=True)
def fresh_window():
    """The limits count per minute of the clock: start each test well inside a minute, so no
    window ends half-way through it."""
    left = ratelimit.window_end(time.time(), WINDOW_SECONDS) - time.time()
    if left < 5:
        time.sleep(left + 0.1)


def get_users(app, token):
    return app.test_client().get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})


def test_over_the_credential_limit_is_429_with_retry_after(limited_app, tokens):
    app, token = limited_app(per_credential_per_minute=3), tokens()
    assert [get_users(app, token).status_code for _ in range(3)] == [200, 200, 200]
    refused = get_users(app, token)
    assert_scim_error(refused, 429, None, "More than 3 requests in a minute for this credential")
    assert 1 <= int(refused.headers["Retry-After"]) <= WINDOW_SECONDS
    assert refused.headers["X-Request-Id"]


def test_refusals_are_counted_in_the_metrics(limited_app, tokens):
    def refusals():
        return metrics._instruments().registry.get_sample_value("ally_rate_limit_refusals_total",
                                                                {"scope": "credential"}) or 0

    app, token = limited_app(per_credential_per_minute=1), tokens()
    before = refusals()
    statuses = [get_users(app, token).status_code for _ in range(3)]
    assert statuses == [200, 429, 429]
    assert refusals() == before + 2


def test_the_limit_is_shared_by_workers_over_one_database(limited_app, tokens):
    worker_a, worker_b = limited_app(per_credential_per_minute=4), limited_app(per_credential_per_minute=4)
    token = tokens()
    assert [get_users(worker_a, token).status_code for _ in range(2)] == [200, 200]
    assert [get_users(worker_b, token).status_code for _ in range(2)] == [200, 200]
    assert get_users(worker_a, token).status_code == 429
    assert get_users(worker_b, token).status_code == 429


def test_the_organisation_limit_covers_all_its_credentials(limited_app, tokens):
    app = limited_app(per_credential_per_minute=100, per_organisation_per_minute=3)
    okta, entra = tokens("Okta"), tokens("Entra")
    assert [get_users(app, okta).status_code for _ in range(2)] == [200, 200]
    assert get_users(app, entra).status_code == 200
    assert_scim_error(get_users(app, entra), 429, None, "for this organisation")
    assert get_users(app, okta).status_code == 429


def test_disabled_limits_never_refuse(limited_app, tokens):
    app, token = limited_app(enabled=False, per_credential_per_minute=1, per_organisation_per_minute=1), tokens()
    assert {get_users(app, token).status_code for _ in range(5)} == {200}
    with app.app_context():
        assert RateLimitCounter.select().count() == 0


def test_requests_outside_scim_are_not_limited(limited_app, tokens):
    app = limited_app(per_credential_per_minute=1, per_organisation_per_minute=1)
    assert {app.test_client().get("/healthz").status_code for _ in range(3)} == {200}


def a_moment_in_the_next_minute() -> float:
    """10.5 s into the next minute (its counters are not tidied away as ended)."""
    return ratelimit.window_end(time.time(), WINDOW_SECONDS) + 10.5


def test_far_from_the_limit_a_worker_writes_about_once_a_second(db):
    limiter, now = SharedLimiter(), a_moment_in_the_next_minute()
    assert all(limiter.hit("k", 10_000, now) is None for _ in range(500))
    assert RateLimitCounter.get(RateLimitCounter.key == "k").count == 1  # only the first request was written
    assert limiter.hit("k", 10_000, now + WRITE_SECONDS) is None
    assert RateLimitCounter.get(RateLimitCounter.key == "k").count == 501


def test_close_to_the_limit_every_request_is_written(db):
    limit, now = 2 * HEADROOM_SHARE, a_moment_in_the_next_minute()
    limiter = SharedLimiter()
    results = [limiter.hit("k", limit, now) for _ in range(limit + 2)]
    assert results[:limit] == [None] * limit and None not in results[limit:]
    assert RateLimitCounter.get(RateLimitCounter.key == "k").count == limit  # refused requests are not counted


def test_a_new_minute_starts_a_new_count(db):
    limiter, now = SharedLimiter(), a_moment_in_the_next_minute()
    assert limiter.hit("k", 1, now) is None
    assert limiter.hit("k", 1, now) == 50  # Retry-After: the seconds left in the minute
    assert limiter.hit("k", 1, now + 50) is None


def test_threads_of_one_worker_never_pass_the_limit_together(db):
    limit, now = 50, a_moment_in_the_next_minute()
    limiter, allowed = SharedLimiter(), []

    def serve_requests():
        allowed.extend(limiter.hit("k", limit, now) is None for _ in range(20))
        database.close()

    threads = [threading.Thread(target=serve_requests) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(allowed) == limit
    assert RateLimitCounter.get(RateLimitCounter.key == "k").count == limit
