"""Under `ally-scim serve` (gunicorn, 2 workers) a scrape answered by either worker reports the
requests both answered, and a dead worker stops counting as live."""
import http.client
import os
import signal
import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.memory import worker_pids
from benchmarks.servers import HOST, clean_environment, connector_server, free_port, running, write_config
from tests.helpers import wait_until

pytestmark = pytest.mark.slow


def get(port: int, path: str) -> tuple[int, str]:
    """One request on its own connection, so successive requests may reach either worker."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def scraped(port: int, name: str, **labels) -> float:
    status, text = get(port, "/metrics")
    assert status == 200
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and sample.labels == labels)


def pids_that_counted(metrics_dir) -> set[int]:
    return {int(path.stem.split("_")[-1]) for path in metrics_dir.glob("counter_*.db")}


def burst(port: int, requests: int) -> None:
    threads = [threading.Thread(target=get, args=(port, "/healthz")) for _ in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_metrics_are_summed_over_workers_and_dead_workers_are_forgotten(db_url, tmp_path):
    port = free_port()
    config = write_config(tmp_path, db_url, port, metrics={"enabled": True})
    # The server makes its metrics directory under TMPDIR: here, where the test can look.
    server = connector_server(config, port, tmp_path, env=clean_environment(TMPDIR=str(tmp_path)))
    with running(server):
        [metrics_dir] = tmp_path.glob("ally-scim-metrics-*")
        wait_until(lambda: len(worker_pids(server.pid)) == 2, "two workers")
        sent = 0
        while len(pids_that_counted(metrics_dir)) < 2:
            assert sent < 400, "every request went to one worker"
            burst(port, 8)
            sent += 8
        workers = set(worker_pids(server.pid))
        assert pids_that_counted(metrics_dir) >= workers

        # Whichever worker answers the scrape, it reports what both workers answered.
        for _ in range(6):
            assert scraped(port, "ally_http_requests_total", route="/healthz", method="GET", status="200") == sent
        assert scraped(port, "ally_worker_processes") == 2

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: victim not in worker_pids(server.pid) and len(worker_pids(server.pid)) == 2,
                   "gunicorn to replace the killed worker")
        wait_until(lambda: get(port, "/healthz")[0] == 200, "the new worker")
        sent += 1
        wait_until(lambda: scraped(port, "ally_worker_processes") == 2, "the dead worker's gauge to go")
        # Counters never go backwards: the dead worker's requests still count.
        assert scraped(port, "ally_http_requests_total", route="/healthz", method="GET", status="200") == sent

        # A worker creates its value file before sizing it; one killed in between leaves an
        # empty file behind (prometheus/client_python#1199), which must not fail the scrape.
        (metrics_dir / "counter_999999.db").write_bytes(b"")
        (metrics_dir / "gauge_livesum_999999.db").write_bytes(b"")
        for _ in range(4):
            assert scraped(port, "ally_http_requests_total", route="/healthz", method="GET", status="200") == sent
    assert not metrics_dir.exists()
