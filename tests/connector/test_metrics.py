"""Prometheus metrics at /metrics: off by default, and when on, only for allowed clients."""
import subprocess
import sys
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector import metrics
from connector.clock import utcnow
from connector.config import ConfigError, load_settings
from connector.db import write_transaction
from connector.models import OutboxMessage
from connector.outbox import enqueue

OUR_METRICS = ("ally_http_requests", "ally_http_request_duration_seconds", "ally_rate_limit_refusals",
               "ally_worker_processes", "ally_outbox_messages", "ally_outbox_retrying_messages",
               "ally_outbox_oldest_pending_age_seconds")


@pytest.fixture
def metrics_config():
    """The `metrics` config section for the test's app; tests parametrize it."""
    return {"enabled": True}


@pytest.fixture
def config_data(config_data, metrics_config):
    return {**config_data, "metrics": metrics_config}


def scrape(client, remote_addr="127.0.0.1", headers=None):
    return client.get("/metrics", environ_base={"REMOTE_ADDR": remote_addr}, headers=headers or {})


def samples(text: str) -> dict:
    """{(sample name, frozenset of labels): value} from an exposition."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(client, name, **labels) -> float:
    response = scrape(client)
    assert response.status_code == 200
    return samples(response.get_data(as_text=True)).get((name, frozenset(labels.items())), 0.0)


def assert_plain_404(response):
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"


@pytest.mark.parametrize("metrics_config", [{}])
def test_metrics_are_off_by_default(client):
    assert_plain_404(scrape(client))


def test_allowed_client_gets_our_metrics(client):
    before = value(client, "ally_http_requests_total", route="/healthz", method="GET", status="200")
    client.get("/healthz")
    client.get("/healthz")
    response = scrape(client)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    found = {family.name for family in text_string_to_metric_families(text)}
    assert set(OUR_METRICS) <= found
    after = samples(text)
    assert after[("ally_http_requests_total", frozenset(
        {"route": "/healthz", "method": "GET", "status": "200"}.items()))] == before + 2
    assert ("ally_http_request_duration_seconds_bucket",
            frozenset({"route": "/healthz", "method": "GET", "le": "+Inf"}.items())) in after


def test_ipv6_loopback_is_allowed_by_default(client):
    assert scrape(client, remote_addr="::1").status_code == 200


def test_other_clients_get_404(client):
    assert_plain_404(scrape(client, remote_addr="10.1.2.3"))
    assert_plain_404(scrape(client, remote_addr="::ffff:10.1.2.3"))


def test_requests_through_a_proxy_get_404(client):
    """A reverse proxy on the same host connects from 127.0.0.1; the header gives it away."""
    assert_plain_404(scrape(client, headers={"X-Forwarded-For": "203.0.113.9"}))
    assert_plain_404(scrape(client, headers={"Forwarded": "for=203.0.113.9"}))


@pytest.mark.parametrize("metrics_config", [{"enabled": True, "allowed_clients": ["10.0.0.0/8"]}])
def test_allow_list_takes_networks(client):
    assert scrape(client, remote_addr="10.20.30.40").status_code == 200
    assert scrape(client, remote_addr="::ffff:10.20.30.40").status_code == 200
    assert_plain_404(scrape(client, remote_addr="127.0.0.1"))


def test_unknown_methods_and_urls_do_not_make_new_label_values(client):
    wrong_method = {"route": "<unmatched>", "method": "OTHER", "status": "405"}
    unknown_url = {"route": "<unmatched>", "method": "OTHER", "status": "404"}
    before = [value(client, "ally_http_requests_total", **labels) for labels in (wrong_method, unknown_url)]
    client.open("/healthz", method="BREW")
    client.open("/healthz/whatever-a-scanner-tries", method="BREW")
    client.open("/another/thing/a-scanner-tries", method="BREW")
    after = [value(client, "ally_http_requests_total", **labels) for labels in (wrong_method, unknown_url)]
    assert after == [before[0] + 1, before[1] + 2]


def test_rate_limit_refusals_are_counted(client):
    before = value(client, "ally_rate_limit_refusals_total", scope="credential")
    metrics.count_rate_limit_refusal("credential")
    metrics.count_rate_limit_refusal("credential")
    assert value(client, "ally_rate_limit_refusals_total", scope="credential") == before + 2


def test_outbox_depth_and_failures_come_from_the_database(db, client):
    with write_transaction():
        waiting = enqueue(recipient="a@acme.example", subject="Join", body="...", kind="invitation")
        retrying = enqueue(recipient="b@acme.example", subject="Join", body="...", kind="invitation")
        failed = enqueue(recipient="c@acme.example", subject="Join", body="...", kind="invitation")
        OutboxMessage.update(created_at=utcnow() - timedelta(minutes=5)).where(OutboxMessage.id == waiting.id).execute()
        OutboxMessage.update(attempts=2).where(OutboxMessage.id == retrying.id).execute()
        OutboxMessage.update(status="failed", attempts=8).where(OutboxMessage.id == failed.id).execute()
    assert value(client, "ally_outbox_messages", status="pending") == 2
    assert value(client, "ally_outbox_messages", status="failed") == 1
    assert value(client, "ally_outbox_messages", status="sent") == 0
    assert value(client, "ally_outbox_retrying_messages") == 1
    assert value(client, "ally_outbox_oldest_pending_age_seconds") >= 300


def test_allowed_clients_config_is_validated():
    with pytest.raises(ConfigError, match="metrics.allowed_clients: 'nope' is not an IP address or network"):
        load_settings(None, env={"ALLY_METRICS__ALLOWED_CLIENTS": "127.0.0.1,nope"})
    settings = load_settings(None, env={"ALLY_METRICS__ENABLED": "true",
                                        "ALLY_METRICS__ALLOWED_CLIENTS": "10.0.0.0/8, 192.168.1.7"})
    assert settings.metrics.enabled is True
    assert settings.metrics.allowed_clients == ("10.0.0.0/8", "192.168.1.7")
    assert load_settings(None, env={}).metrics.allowed_clients == ("127.0.0.1", "::1")


def test_importing_the_cli_does_not_import_prometheus_client():
    """prometheus_client fixes single- or multi-process storage when first imported; the
    master of `ally-scim serve` must get to set PROMETHEUS_MULTIPROC_DIR before that."""
    code = "import sys, connector, connector.cli, connector.metrics, connector.serve; print('prometheus_client' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
