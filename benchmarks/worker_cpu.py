"""Worker CPU: the processor time (user + system) a gunicorn master's workers spend while a
scenario runs, read from /proc (Linux only), per answered request.

Throughput on this shared machine moves with whatever else runs on it; the CPU time one request
costs the workers moves much less, so it tells a change of the code from a change of the minute.
It leaves out the load client and, on PostgreSQL, the database server's own processes."""
from __future__ import annotations

import os

from benchmarks.memory import stat_fields, worker_pids

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of `pid` so far, or None when the process is gone."""
    fields = stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime and stime (proc(5) fields 14, 15)


class WorkerCpu:
    """The workers' CPU time spent inside a `with` block: `seconds`, and `per_request_ms(n)`.
    A worker that starts inside the block counts from nought; one that ends inside it takes its
    time with it (the figure is then low, never high)."""

    def __init__(self, master_pid: int):
        self.master_pid = master_pid
        self.seconds = 0.0
        self._start: dict[int, float] = {}

    def __enter__(self) -> WorkerCpu:
        self._start = self._sample()
        return self

    def __exit__(self, *exc_info) -> None:
        self.seconds = sum(used - self._start.get(pid, 0.0) for pid, used in self._sample().items())

    def per_request_ms(self, requests: int) -> float | None:
        return self.seconds * 1000 / requests if requests else None

    def _sample(self) -> dict[int, float]:
        times = {pid: cpu_seconds(pid) for pid in worker_pids(self.master_pid)}
        return {pid: used for pid, used in times.items() if used is not None}
