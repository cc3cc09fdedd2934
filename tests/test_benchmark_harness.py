"""The benchmark harness works: its client drives real servers for a bounded number of
requests, its sampler finds the workers, its table prints. No figure is asserted."""
import math

import pytest

from benchmarks.client import LoadResult, Request, json_request, run_load
from benchmarks.memory import WorkerMemorySampler, worker_pids
from benchmarks.report import COLUMNS, Row, format_table
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
        assert len(worker_pids(server.pid)) == 2
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
    table = format_table([Row("floor", "-", floor, 30.0), Row("GET /Users", "sqlite", scim, 42.5)],
                         floor.throughput)
    header, floor_line, scim_line = table.splitlines()
    assert header.split("  ")[0] == "scenario" and "worker RSS MB" in header and len(COLUMNS) == 10
    assert floor_line.split()[-2:] == ["1.00x", "30.0"]
    assert scim_line.split() == ["GET", "/Users", "sqlite", "10", "0", "250.0", "4.00", "4.00", "4.00", "0.25x", "42.5"]


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
    """The benchmark's PATCH bodies are the forms Okta and Entra send (IDP.md 14)."""
    from benchmarks import groups

    assert groups.add_member("g", "u")["Operations"] == [{"op": "add", "path": "members", "value": [{"value": "u"}]}]
    assert groups.remove_member("g", "u")["Operations"] == [{"op": "remove", "path": 'members[value eq "u"]'}]
    names = [s.name for s in scenarios_named("/Groups")]
    assert len(names) == 6 and len(set(names)) == 6


def scenarios_named(part: str):
    from benchmarks.scenarios import SCENARIOS

    return [scenario for scenario in SCENARIOS if part in scenario.name]
