"""Run the scenarios: the floor first, then every connector scenario on a fresh database and a
fresh `ally-scim serve` per backend (SQLite always, PostgreSQL when ALLY_TEST_POSTGRES_URL is
set), and print the table; then the CSV bulk invite (benchmarks.csv_import), which is a command,
not HTTP, and prints rows per second.

The floor server stays up for the whole run, and the floor is measured again for a few seconds
right before and right after each connector scenario: on a shared machine the floor moves by
half within an hour, so a ratio is taken to the floor of the same minutes, not of the run's
start; the higher of the two, so that a dip of the machine while the floor was measured never
flatters a scenario."""
from __future__ import annotations

import argparse
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from benchmarks import csv_import
from benchmarks.client import Request, run_load
from benchmarks.memory import WorkerMemorySampler
from benchmarks.report import Row, format_table
from benchmarks.scenarios import CONNECTOR, FIGURES, FLOOR, SCENARIOS, Context, Figure, Scenario
from benchmarks.worker_cpu import WorkerCpu
from benchmarks.servers import (
    HOST,
    POSTGRES_ENV,
    BenchmarkError,
    ServerProcess,
    ally_scim,
    connector_server,
    floor_server,
    free_port,
    progress,
    running,
    scratch_database,
    write_config,
)
from benchmarks.statistics import autovacuum_stand_in

WARM_UP_REQUESTS = 200
WARM_UP_SECONDS = 10
FLOOR_NEXT_SECONDS = 3.0  # the floor measured right before and right after each connector scenario


@dataclass(frozen=True)
class Limits:
    max_requests: int | None  # caps every scenario's own request count
    time_limit: float | None  # caps every scenario's own time limit (seconds)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    limits = Limits(args.max_requests, args.time_limit)
    chosen = [s for s in SCENARIOS if s.target == FLOOR or not args.only or s.name in args.only]
    on_connector = [s for s in chosen if s.target == CONNECTOR]
    chosen_figures = [f for f in FIGURES if f.name is None or not args.only or f.name in args.only]
    rows: list[Row] = []
    lines: list[str] = []
    problems: list[str] = []
    floors = [s for s in chosen if s.target == FLOOR]
    with tempfile.TemporaryDirectory(prefix="ally-bench-") as workdir, ExitStack() as servers:
        workdir = Path(workdir)
        floor = _start_floor(workdir, servers, problems)
        floor_rows = _run_all(floors, floor, Context(), "-", limits, problems) if floor else []
        rows += floor_rows
        floor_throughput = floor_rows[0].result.throughput if floor_rows else None
        next_floor = Floor(floor, floors[0]) if floor and floors else None
        needed = on_connector or any(f.name for f in chosen_figures)
        for backend in (args.backend or _default_backends()) if needed else ():
            rows += _on_connector(backend, on_connector, chosen_figures, workdir, limits, floor_throughput, lines,
                                  problems, next_floor)
    print(_heading(limits))
    print(format_table(rows, floor_throughput, floor_rows[0].cpu_ms if floor_rows else None))
    if lines:
        print("\n" + "\n".join(lines))
    if not args.only or csv_import.NAME in args.only:
        csv_figures, csv_problems = csv_import.run(args.backend or _default_backends())
        print(f"\n{csv_import.HEADING}\n{csv_import.report(csv_figures)}")
        problems += csv_problems
    for problem in problems:
        print(f"\nPROBLEM: {problem}")
    return 1 if problems else 0


@dataclass(frozen=True)
class Floor:
    """The running floor server and the floor scenario, to measure the floor again."""
    server: ServerProcess
    scenario: Scenario

    def measure(self, limits: Limits) -> tuple[float, float | None]:
        """The floor's requests/s and its workers' CPU ms per request over the next
        FLOOR_NEXT_SECONDS (or the run's caps)."""
        seconds = min(FLOOR_NEXT_SECONDS, limits.time_limit or FLOOR_NEXT_SECONDS)
        total = min(self.scenario.requests, limits.max_requests or self.scenario.requests)
        with WorkerCpu(self.server.pid) as cpu:
            result = run_load(HOST, self.server.port, lambda i: self.scenario.request(Context(), i), total=total,
                              clients=self.scenario.clients, time_limit=seconds)
        return result.throughput, cpu.per_request_ms(result.requests)


def run_scenario(scenario: Scenario, server: ServerProcess, ctx: Context, backend: str, limits: Limits,
                 floor: Floor | None = None) -> Row:
    """Load the server with the scenario's requests while sampling worker memory and CPU time
    (between two measures of the floor, when given it: the row keeps the higher throughput and
    the lower CPU time per request)."""
    total = min(scenario.requests, limits.max_requests or scenario.requests)
    seconds = min(scenario.time_limit, limits.time_limit or scenario.time_limit)
    scenario.request(ctx, 0)  # fails here, clearly, when the scenario cannot build its requests
    hook = (lambda i, status, body: scenario.on_response(ctx, i, status, body)) if scenario.on_response else None
    before = floor.measure(limits) if floor else None
    with WorkerMemorySampler(server.pid) as memory, WorkerCpu(server.pid) as cpu:
        result = run_load(HOST, server.port, lambda i: scenario.request(ctx, i), total=total,
                          clients=scenario.clients, time_limit=seconds, expect=scenario.expect,
                          on_response=hook)
    floor_throughput = floor_cpu_ms = None
    if floor:
        after = floor.measure(limits)
        floor_throughput = max(before[0], after[0])
        floor_cpu_ms = min((ms for _, ms in (before, after) if ms), default=None)
    return Row(scenario.name, backend, result, memory.peak_mb, floor_throughput,
               cpu_ms=cpu.per_request_ms(result.requests), floor_cpu_ms=floor_cpu_ms)


def _start_floor(workdir: Path, servers: ExitStack, problems: list[str]) -> ServerProcess | None:
    """The floor server, up until `servers` closes; None (and a problem) when it cannot start."""
    try:
        return servers.enter_context(running(floor_server(free_port(), workdir)))
    except BenchmarkError as exc:
        problems.append(f"floor: {exc}")
        return None


def _on_connector(backend: str, scenarios: list[Scenario], figures: list[Figure], workdir: Path, limits: Limits,
                  floor_throughput: float | None, lines: list[str], problems: list[str],
                  floor: Floor | None = None) -> list[Row]:
    progress(f"{backend}: fresh database, `ally-scim init`, `ally-scim serve` with 2 workers")
    try:
        with scratch_database(backend, workdir) as database_url:
            port = free_port()
            config = write_config(workdir, database_url, port)
            ally_scim(config, "init")
            with running(connector_server(config, port, workdir)) as server, \
                    autovacuum_stand_in(backend, database_url):
                ctx = Context(config=config, port=port, backend=backend, floor_throughput=floor_throughput)
                rows = _run_all(scenarios, server, ctx, backend, limits, problems, floor)
                lines += _figures(ctx, rows, backend, problems, figures)
                return rows
    except BenchmarkError as exc:
        problems.append(f"{backend}: {exc}")
        return []


def _run_all(scenarios, server: ServerProcess, ctx: Context, backend: str, limits: Limits, problems,
             floor: Floor | None = None) -> list[Row]:
    run_load(HOST, server.port, lambda i: Request("GET", server.ready_path), total=WARM_UP_REQUESTS,
             clients=4, time_limit=WARM_UP_SECONDS)
    rows = []
    for scenario in scenarios:
        progress(f"{backend}: {scenario.name}")
        try:
            row = run_scenario(scenario, server, ctx, backend, limits, floor)
        except Exception as exc:  # noqa: BLE001 - one scenario that cannot run must not lose the others
            problems.append(f"{scenario.name} on {backend} did not run: {type(exc).__name__}: {exc}")
            continue
        rows.append(row)
        if row.result.failure_count:
            problems.append(f"{scenario.name} on {backend}: {row.result.failure_count} unexpected answers, e.g. "
                            + "; ".join(row.result.failures))
    return rows


def _figures(ctx: Context, rows: list[Row], backend: str, problems: list[str], figures=FIGURES) -> list[str]:
    """Each figure's lines, computed while the server still runs (it may measure on its own)."""
    by_name = {row.scenario: row for row in rows}
    lines = []
    for figure in figures:
        progress(f"{backend}: {figure.title}")
        try:
            computed = figure.compute(ctx, by_name)
            lines += [f"{figure.title} [{backend}]", *(f"  {line}" for line in computed)] if computed else []
        except Exception as exc:  # noqa: BLE001 - one figure that cannot be made must not lose the others
            problems.append(f"figure {figure.title!r} on {backend}: {type(exc).__name__}: {exc}")
    return lines


def _default_backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


def _heading(limits: Limits) -> str:
    caps = [f"at most {limits.max_requests} requests" if limits.max_requests else "",
            f"at most {limits.time_limit:g} s" if limits.time_limit else ""]
    capped = f"; every scenario {' and '.join(c for c in caps if c)}" if any(caps) else ""
    return (f"\nAlly SCIM connector benchmarks: gunicorn, 2 workers x 4 threads, on {HOST}, "
            f"{os.cpu_count()} CPUs (shared with the load client){capped}.\n"
            f"'vs floor' is throughput divided by the bare Flask endpoint's under the same server, measured for "
            f"{FLOOR_NEXT_SECONDS:g} s right before\nand right after each connector scenario, the higher of the two "
            f"('floor req/s'); the first row is the floor at the start of the run.\n")


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"],
                        help="run on this backend (repeatable; default: sqlite, and postgresql when "
                             f"{POSTGRES_ENV} is set)")
    parser.add_argument("--only", action="append", metavar="SCENARIO",
                        help="run only this scenario or named figure (repeatable; the floor always runs)")
    parser.add_argument("--max-requests", type=int, metavar="N", help="cap every scenario at N requests")
    parser.add_argument("--time-limit", type=float, metavar="SECONDS",
                        help="stop every scenario after at most this many seconds (default: its own limit, 20 s unless it says)")
    args = parser.parse_args(argv)
    names = [s.name for s in SCENARIOS] + [f.name for f in FIGURES if f.name] + [csv_import.NAME]
    unknown = set(args.only or ()) - set(names)
    if unknown:
        parser.error(f"no scenario named {', '.join(sorted(unknown))}; there are: {', '.join(names)}")
    return args
