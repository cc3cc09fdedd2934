"""Prometheus metrics (prometheus-client): requests by route, method and status, latency
histograms, live workers, rate-limit refusals, and the mail outbox read from the database at
each scrape.

Under gunicorn every worker writes its counters to files in PROMETHEUS_MULTIPROC_DIR, which
`ally-scim serve` creates fresh for each server before the workers fork, and a scrape answered
by any worker sums all of them. prometheus_client chooses between in-memory and file-backed
values when it is first imported, from that variable: this module therefore imports it only
inside functions, so importing `connector` (as the CLI's master process does) never fixes the
choice too early.

GET /metrics exists only when `metrics.enabled` is true, and then answers only to the
`metrics.allowed_clients`; everyone else gets the same 404 as for an unknown URL.
"""
from __future__ import annotations

import functools
import glob
import ipaddress
import logging
import os
from types import SimpleNamespace

from flask import Flask, Response, abort, request

from connector import outbox
from connector.clock import utcnow
from connector.config import MetricsSettings
from connector.models import OutboxMessage
from connector.request_log import elapsed_seconds, route_of_request

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Any other method is counted as OTHER, so a client cannot invent label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A request that came through a reverse proxy carries one of these; a local scraper does not.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-Ip")

log = logging.getLogger(__name__)


def init_app(app: Flask, settings: MetricsSettings) -> None:
    """When enabled: record every request and serve GET /metrics to the allowed clients."""
    if not settings.enabled:
        return
    allowed = tuple(ipaddress.ip_network(entry, strict=False) for entry in settings.allowed_clients)
    _instruments().workers.set(1)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", functools.partial(_metrics_view, allowed))


def count_rate_limit_refusal(scope: str) -> None:
    """Count one request refused with 429; `scope` names the limit ("credential", "organisation")."""
    _instruments().rate_limit_refusals.labels(scope=scope).inc()


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "OTHER"
    instruments = _instruments()
    instruments.requests.labels(route=route, method=method, status=str(status)).inc()
    instruments.latency.labels(route=route, method=method).observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The scrape body and its content type: every worker's values plus the outbox."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        registry.register(_SizedFilesCollector(os.environ[MULTIPROC_ENV]))
    else:
        registry.register(_instruments().registry)
    registry.register(OutboxCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _SizedFilesCollector:
    """prometheus_client's MultiProcessCollector over the workers' value files, skipping one
    that is still 0 bytes long. A worker creates its file and only then sizes it (1 MiB of
    zeros, which reads as no values); read in between, the file raises struct.error and fails
    the whole scrape (prometheus/client_python#1199), and a worker killed in between leaves it
    0 bytes for good."""

    def __init__(self, directory: str):
        self.directory = directory

    def collect(self):
        from prometheus_client.multiprocess import MultiProcessCollector

        files = [path for path in glob.glob(os.path.join(self.directory, "*.db")) if _sized(path)]
        return MultiProcessCollector.merge(files, accumulate=True)


def _sized(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except FileNotFoundError:  # a dead worker's live gauge, removed since the glob
        return False


class OutboxCollector:
    """Outbox depth and failures, counted in the database at scrape time (the same answer
    whichever worker or host is asked)."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        try:
            counts, retrying, oldest = _outbox_figures()
        except Exception:  # noqa: BLE001 - a scrape still answers with the request metrics
            log.warning("outbox metrics unavailable", exc_info=True)
            return
        messages = GaugeMetricFamily("ally_outbox_messages", "Outbox messages by status.", labels=["status"])
        for status, count in counts.items():
            messages.add_metric([status], count)
        yield messages
        yield GaugeMetricFamily("ally_outbox_retrying_messages",
                                "Pending messages whose delivery failed at least once.", value=retrying)
        yield GaugeMetricFamily("ally_outbox_oldest_pending_age_seconds",
                                "Age of the oldest pending message (0 when none).", value=oldest)


def _outbox_figures() -> tuple[dict[str, int], int, float]:
    from peewee import fn

    pending = OutboxMessage.select().where(OutboxMessage.status == "pending")
    retrying = pending.where(OutboxMessage.attempts > 0).count()
    oldest = pending.select(fn.MIN(OutboxMessage.created_at)).scalar()
    age = (utcnow() - oldest).total_seconds() if oldest else 0.0
    return outbox.counts(), retrying, max(age, 0.0)


@functools.cache
def _instruments() -> SimpleNamespace:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    registry = CollectorRegistry()
    return SimpleNamespace(
        registry=registry,
        requests=Counter("ally_http_requests", "HTTP requests answered, by route (URL rule), method and status.",
                         ["route", "method", "status"], registry=registry),
        latency=Histogram("ally_http_request_duration_seconds", "Time to answer a request, by route and method.",
                          ["route", "method"], buckets=LATENCY_BUCKETS, registry=registry),
        rate_limit_refusals=Counter("ally_rate_limit_refusals", "Requests refused with 429, by limit.",
                                    ["scope"], registry=registry),
        workers=Gauge("ally_worker_processes", "Live server worker processes.",
                      multiprocess_mode="livesum", registry=registry),
    )


def _observe(response: Response) -> Response:
    observe_request(route_of_request(), request.method, response.status_code, elapsed_seconds())
    return response


def _metrics_view(allowed) -> Response:
    if not _client_allowed(allowed):
        abort(404)
    body, content_type = exposition()
    return Response(body, headers={"Content-Type": content_type})


def _client_allowed(allowed) -> bool:
    if any(request.headers.get(name) for name in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in allowed)
