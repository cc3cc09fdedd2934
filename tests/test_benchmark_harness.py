"""The benchmark harness works: its client drives real servers for a bounded number of
requests, its sampler finds the workers, its table prints. No figure is asserted."""
import math
import os
import subprocess
import sys

import pytest

from benchmarks.client import LoadResult, Request, json_request, run_load
from benchmarks.memory import WorkerMemorySampler, worker_pids
from benchmarks.report import COLUMNS, Row, format_table
from benchmarks.worker_cpu import WorkerCpu, cpu_seconds
from tests.helpers import wait_until
from benchmarks.servers import (
    HOST,
    MissingCommand,
    ally_scim,
    connector_server,
    floor_server,
    free_port,
    running,
    write_config,
)


@pytest.mark.slow
def test_client_and_memory_sampler_against_the_connector(db_url, tmp_path):
    port = free_port()
    config = write_config(tmp_path, db_url, port)
    with running(connector_server(config, port, tmp_path)) as server:
        with WorkerMemorySampler(server.pid, interval=0.05) as memory:
            result = run_load(HOST, port, lambda i: Request("GET", "/healthz" if i % 2 else "/readyz"),
                              total=20, clients=3, time_limit=60)
        wait_until(lambda: len(worker_pids(server.pid)) == 2, "gunicorn's second worker")  # may boot after the load
    assert result.requests == 20
    assert result.statuses == {200: 20}
    assert result.failure_count == 0 and result.failures == []
    assert all(latency > 0 for latency in result.latencies)
    assert memory.samples >= 2 and memory.peak_mb > 1


@pytest.mark.slow
def test_floor_server_unexpected_answers_and_time_limit(tmp_path):
    port = free_port()
    with running(floor_server(port, tmp_path)):
        ok = run_load(HOST, port, lambda i: Request("GET", "/floor"), total=10, clients=2, time_limit=60)
        missing = run_load(HOST, port, lambda i: Request("GET", f"/missing/{i}"), total=7, clients=2, time_limit=60)
        endless = run_load(HOST, port, lambda i: Request("GET", "/floor"), total=10**9, clients=2, time_limit=0.5)
    assert ok.statuses == {200: 10} and ok.failure_count == 0
    assert missing.statuses == {404: 7} and missing.failure_count == 7
    assert len(missing.failures) == 5 and all(": 404 " in failure for failure in missing.failures)
    assert 0 < endless.requests < 10**9  # the time limit ended it


def test_a_request_that_cannot_be_built_stops_its_client_with_the_reason():
    def needs_earlier_state(i):
        raise KeyError("user_ids")

    result = run_load(HOST, free_port(), needs_earlier_state, total=100, clients=2, time_limit=5)
    assert result.requests == 0
    assert result.failure_count == 2
    assert set(result.failures) == {f"request {i} could not be built: KeyError: 'user_ids'" for i in (0, 1)}


def test_missing_cli_command_is_a_clear_error(tmp_path):
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}", 8080)
    with pytest.raises(MissingCommand, match="`ally-scim no-such-command` does not exist in this checkout yet"):
        ally_scim(config, "no-such-command")


def test_percentiles_are_nearest_rank():
    result = LoadResult(latencies=[i / 1000 for i in range(1, 101)], elapsed=2.0)
    assert (result.percentile_ms(50), result.percentile_ms(95), result.percentile_ms(99)) == (50, 95, 99)
    assert result.throughput == 50
    assert math.isnan(LoadResult().percentile_ms(50))


def test_table_gives_ratios_to_the_floor():
    floor = LoadResult(latencies=[0.002] * 10, elapsed=0.01)
    scim = LoadResult(latencies=[0.004] * 10, elapsed=0.04)
    next_to_it = Row("GET /Users/1", "sqlite", scim, 42.5, floor_throughput=500.0, cpu_ms=1.2, floor_cpu_ms=0.3)
    table = format_table([Row("floor", "-", floor, 30.0, cpu_ms=0.4), Row("GET /Users", "sqlite", scim, 42.5, cpu_ms=1.6),
                          next_to_it], floor.throughput, 0.4)
    header, floor_line, scim_line, next_line = table.splitlines()
    assert header.split("  ")[0] == "scenario" and "worker RSS MB" in header and len(COLUMNS) == 13
    assert floor_line.split()[-5:] == ["-", "1.00x", "0.40", "1.00x", "30.0"]
    assert scim_line.split() == ["GET", "/Users", "sqlite", "10", "0", "250.0", "4.00", "4.00", "4.00", "-", "0.25x",
                                 "1.60", "0.25x", "42.5"]
    # A scenario with the floor measured right before it is compared with that floor.
    assert next_line.split()[-5:] == ["500", "0.50x", "1.20", "0.25x", "42.5"]


def test_worker_cpu_counts_the_time_of_the_masters_children():
    """The test process stands in for the gunicorn master: a child started inside the block
    burns 0.3 s of CPU, and the block counts it from nought."""
    busy = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    child = None
    try:
        with WorkerCpu(os.getpid()) as cpu:
            child = subprocess.Popen([sys.executable, "-c", busy])
            wait_until(lambda: (cpu_seconds(child.pid) or 0) >= 0.3, "the child's busy loop")
    finally:
        if child is not None:
            child.kill()
            child.wait()
    assert 0.3 <= cpu.seconds < 5
    assert cpu.per_request_ms(100) == pytest.approx(cpu.seconds * 10)
    assert cpu.per_request_ms(0) is None
    assert cpu_seconds(child.pid) is None  # gone


def test_json_request_sends_scim_json():
    request = json_request("POST", "/scim/v2/Users", {"userName": "a"}, {"Authorization": "Bearer t"})
    assert request.body == b'{"userName": "a"}'
    assert request.headers == {"Content-Type": "application/scim+json", "Accept": "application/scim+json",
                               "Authorization": "Bearer t"}


def test_figures_print_their_lines_and_report_failures():
    """A figure's lines follow its title; one with nothing to say prints nothing; one that
    fails becomes a problem of the run without losing the others."""
    from benchmarks import runner, scenarios

    def ratio(ctx, rows):
        return [f"ratio {rows['b'].result.percentile_ms(50) / rows['a'].result.percentile_ms(50):.2f}x"]

    def broken(ctx, rows):
        raise RuntimeError("no statistics")

    figures = [scenarios.Figure("nothing", lambda ctx, rows: []), scenarios.Figure("ratio b/a", ratio),
               scenarios.Figure("broken", broken)]
    rows = [Row("a", "sqlite", LoadResult(latencies=[0.010]), 1.0), Row("b", "sqlite", LoadResult(latencies=[0.012]), 1.0)]
    problems = []
    lines = runner._figures(scenarios.Context(backend="sqlite"), rows, "sqlite", problems, figures)
    assert lines == ["ratio b/a [sqlite]", "  ratio 1.20x"]
    assert problems == ["figure 'broken' on sqlite: RuntimeError: no statistics"]


def test_group_scenarios_send_the_idps_membership_patches():
    """The benchmark's PATCH bodies are the forms Okta and Entra send (IDP.md 14); the group
    scenarios are the PATCHes, the reference checks and the pages, for each of two groups."""
    from benchmarks import groups

    assert groups.add_member("g", "u")["Operations"] == [{"op": "add", "path": "members", "value": [{"value": "u"}]}]
    assert groups.remove_member("g", "u")["Operations"] == [{"op": "remove", "path": 'members[value eq "u"]'}]
    names = [s.name for s in scenarios_named("/Groups")]
    assert len(names) == 8 and len(set(names)) == 8


def scenarios_named(part: str):
    from benchmarks.scenarios import SCENARIOS

    return [scenario for scenario in SCENARIOS if part in scenario.name]


@pytest.mark.slow
def test_conversations_use_earlier_answers_and_stop_on_a_broken_one(tmp_path):
    from benchmarks.client import run_conversations

    seen = []

    def conversation(i):
        status, body = yield Request("GET", "/floor")
        seen.append((i, status))
        yield Request("GET", f"/missing/{len(body)}")
        if i == 2:
            raise KeyError("id")

    port = free_port()
    with running(floor_server(port, tmp_path)):
        result = run_conversations(HOST, port, conversation, total=3, clients=1, time_limit=60)
    assert seen == [(0, 200), (1, 200), (2, 200)]
    assert result.statuses == {200: 3, 404: 3}
    assert result.failures[-1] == "request 2 could not be built: KeyError: 'id'"


def test_user_scenarios_send_the_idps_bodies():
    """Entra's and Okta's POST bodies in turn, Entra's default-dialect PATCH of active
    (IDP.md 1, 4, 11), 100 creates per /Bulk request."""
    from benchmarks import users

    entra, okta = users.user_body(0, "a@bench.example"), users.user_body(1, "b@bench.example")
    assert users.ENTERPRISE_USER in entra["schemas"] and entra["roles"] == [] and "password" not in entra
    assert okta["groups"] == [] and okta["password"] and okta["userName"] == "b@bench.example"
    assert users.active_patch(False)["Operations"] == [{"op": "Replace", "path": "active", "value": "False"}]
    operations = users.bulk_body(1)["Operations"]
    assert len(operations) == 100 and {op["method"] for op in operations} == {"POST"}
    assert operations[0]["data"]["userName"] == "bulk100@bench.example"
    assert users.lookup_path("a b@x") == "/scim/v2/Users?filter=userName%20eq%20%22a%20b%40x%22"


def test_target_lines_say_met_or_not_met():
    from benchmarks import targets, users
    from benchmarks.scenarios import Context

    def row(name, seconds, count, rss=50.0):
        return Row(name, "sqlite", LoadResult(latencies=[seconds] * count, elapsed=1.0), rss)

    rows = {users.CREATE: row(users.CREATE, 0.01, 50), users.LOOKUP: row(users.LOOKUP, 0.01, 40),
            users.GET_BY_ID: Row(users.GET_BY_ID, "sqlite", LoadResult(latencies=[0.01] * 60, elapsed=1.0), 50.0,
                                 floor_throughput=120.0, cpu_ms=1.0, floor_cpu_ms=0.4),
            users.PAGING: row(users.PAGING, 0.02, 9, 250.0)}
    ctx = Context(backend="sqlite", floor_throughput=100.0)
    ctx.state.update(initial_sync_seconds=59.0, paging_depth_p50_ms={"end": 16.0},
                     scale_p50_ms={users.GET_BY_ID: (2.0, 3.0)})
    assert targets.targets(ctx, rows) == [
        "TARGET creating users, 4 clients: 0.50x floor (50 / 100 req/s) (target >= 0.40x) met",
        "TARGET userName eq lookups: 0.40x floor (40 / 100 req/s) (target >= 0.50x) NOT MET",
        # the floor measured next to it, and the workers' CPU time per request beside it
        "TARGET get by id: 0.50x floor (60 / 120 req/s; worker CPU 0.40x) (target >= 0.50x) met",
        "TARGET page of 100 users, end of 100,000: p50 16.00 ms (target <= 15 ms) NOT MET",
        "TARGET GET /Users/{id} p50 at 100,000 users vs 1,000: 3.00 / 2.00 ms = 1.50x (target <= 1.2x) NOT MET",
        "TARGET worker memory paging through 100,000 users (9 pages): 250 MB (target < 200 MB) NOT MET",
        "TARGET initial sync of 10,000 users + 100 groups of 100: 59.0 s (target < 60 s) met",
    ]
