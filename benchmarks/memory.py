"""Worker memory: the resident set size (RSS) of a gunicorn master's worker processes, read
from /proc while a scenario runs (Linux only)."""
from __future__ import annotations

import threading
from pathlib import Path

PROC = Path("/proc")


def worker_pids(master_pid: int) -> list[int]:
    """The master's child processes (its workers)."""
    children = PROC / str(master_pid) / "task" / str(master_pid) / "children"
    if children.exists():
        return [int(pid) for pid in children.read_text().split()]
    return [pid for pid in _all_pids() if _parent_of(pid) == master_pid]


def rss_mb(pid: int) -> float | None:
    """Resident memory of `pid` in MiB, or None when the process is gone."""
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


class WorkerMemorySampler:
    """Samples every worker's RSS every `interval` seconds inside a `with` block;
    `peak_mb` is the largest single-worker RSS seen."""

    def __init__(self, master_pid: int, interval: float = 0.1):
        self.master_pid = master_pid
        self.interval = interval
        self.peak_mb = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WorkerMemorySampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        sizes = [size for size in map(rss_mb, worker_pids(self.master_pid)) if size is not None]
        if sizes:
            self.samples += 1
            self.peak_mb = max(self.peak_mb, *sizes)


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (proc(5) field 3 onwards), or None
    when the process is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


def _parent_of(pid: int) -> int | None:
    fields = stat_fields(pid)
    return int(fields[1]) if fields else None
