"""Issue 7's targets, one line each under the table, per backend:

    TARGET <what>: <figure> (target <x>) met|NOT MET

Throughput targets are ratios to the floor (the bare Flask endpoint under the same server),
measured next to the scenario (benchmarks.runner; else the run's floor, at its start); the line
also gives the floor's worker CPU time per request as a share of the scenario's when both were
measured (benchmarks.worker_cpu), which the machine's other load moves much less;
a target whose figure was not measured in this run (a scenario left out with --only, or one
that failed) is left out.
"""
from __future__ import annotations

from benchmarks import users
from benchmarks.scenarios import Context, figure

# what -> (scenario attribute of benchmarks.users, least share of the floor's throughput)
RATIOS = {
    "creating users, 4 clients": ("CREATE", 0.40),
    "userName eq lookups": ("LOOKUP", 0.50),
    "get by id": ("GET_BY_ID", 0.50),
    "PATCH active": ("PATCH_ACTIVE", 0.35),
}
PAGE_P50_MS = 15.0
SCALE_RATIO = 1.2
WORKER_MB = 200.0
SYNC_SECONDS = 60.0


def line(what: str, measured: str, target: str, met: bool) -> str:
    return f"TARGET {what}: {measured} (target {target}) {'met' if met else 'NOT MET'}"


@figure("targets (issue 7)")
def targets(ctx: Context, rows: dict) -> list[str]:
    lines = []
    for what, (attribute, least) in RATIOS.items():
        row = rows.get(getattr(users, attribute))
        ratio = row.ratio(ctx.floor_throughput) if row else None
        if ratio is not None:
            floor, cpu = row.floor_throughput or ctx.floor_throughput, row.cpu_ratio(None)
            cpu_part = f"; worker CPU {cpu:.2f}x" if cpu is not None else ""
            lines.append(line(what, f"{ratio:.2f}x floor ({row.result.throughput:.0f} / {floor:.0f} req/s{cpu_part})",
                              f">= {least:.2f}x", ratio >= least))
    for label, p50 in ctx.state.get("paging_depth_p50_ms", {}).items():
        lines.append(line(f"page of {users.PAGE} users, {label} of {users.SCALES['large']:,}", f"p50 {p50:.2f} ms",
                          f"<= {PAGE_P50_MS:g} ms", p50 <= PAGE_P50_MS))
    for kind, (small, large) in ctx.state.get("scale_p50_ms", {}).items():
        lines.append(line(f"{kind} p50 at {users.SCALES['large']:,} users vs {users.SCALES['small']:,}",
                          f"{large:.2f} / {small:.2f} ms = {large / small:.2f}x", f"<= {SCALE_RATIO:g}x",
                          large / small <= SCALE_RATIO))
    if users.PAGING in rows:
        paging = rows[users.PAGING]
        lines.append(line(f"worker memory paging through {users.SCALES['large']:,} users "
                          f"({paging.result.requests} pages)", f"{paging.worker_rss_mb:.0f} MB",
                          f"< {WORKER_MB:g} MB", paging.worker_rss_mb < WORKER_MB))
    if "initial_sync_seconds" in ctx.state:
        seconds = ctx.state["initial_sync_seconds"]
        lines.append(line("initial sync of 10,000 users + 100 groups of 100", f"{seconds:.1f} s",
                          f"< {SYNC_SECONDS:g} s", seconds < SYNC_SECONDS))
    return lines
