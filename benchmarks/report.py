"""The printed table: one row per scenario and backend, throughput also as a ratio to the floor:
the floor measured next to the scenario when the run did (`floor req/s`: the higher of its
measures right before and right after), else the floor of the run's start. Beside it, the
workers' CPU time per request (benchmarks.worker_cpu) and the floor's as a share of it (`CPU vs
floor`: what the throughput ratio would be if the workers' CPU were all that counted)."""
from __future__ import annotations

from dataclasses import dataclass

from benchmarks.client import LoadResult

COLUMNS = ("scenario", "backend", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms",
           "floor req/s", "vs floor", "CPU ms/req", "CPU vs floor", "worker RSS MB")


@dataclass(frozen=True)
class Row:
    scenario: str
    backend: str
    result: LoadResult
    worker_rss_mb: float
    floor_throughput: float | None = None  # the floor's requests/s measured next to this scenario
    cpu_ms: float | None = None  # the workers' CPU time per answered request
    floor_cpu_ms: float | None = None  # the floor's, measured next to this scenario (the lower of the two)

    def ratio(self, run_floor: float | None) -> float | None:
        """Throughput as a share of the floor next to it (else of the run's floor)."""
        floor = self.floor_throughput or run_floor
        return self.result.throughput / floor if floor else None

    def cpu_ratio(self, run_floor_cpu_ms: float | None) -> float | None:
        """The floor's CPU time per request as a share of this scenario's."""
        floor = self.floor_cpu_ms or run_floor_cpu_ms
        return floor / self.cpu_ms if floor and self.cpu_ms else None

    def cells(self, run_floor: float | None, run_floor_cpu_ms: float | None = None) -> tuple[str, ...]:
        result, ratio, cpu_ratio = self.result, self.ratio(run_floor), self.cpu_ratio(run_floor_cpu_ms)
        return (self.scenario, self.backend, str(result.requests), str(result.failure_count),
                f"{result.throughput:.1f}", f"{result.percentile_ms(50):.2f}", f"{result.percentile_ms(95):.2f}",
                f"{result.percentile_ms(99):.2f}", f"{self.floor_throughput:.0f}" if self.floor_throughput else "-",
                _times(ratio), f"{self.cpu_ms:.2f}" if self.cpu_ms else "-", _times(cpu_ratio),
                f"{self.worker_rss_mb:.1f}")


def format_table(rows: list[Row], run_floor: float | None, run_floor_cpu_ms: float | None = None) -> str:
    """Left-aligned text columns, right-aligned figures."""
    lines = [COLUMNS, *(row.cells(run_floor, run_floor_cpu_ms) for row in rows)]
    widths = [max(len(line[index]) for line in lines) for index in range(len(COLUMNS))]
    return "\n".join("  ".join(_align(cell, width, index) for index, (cell, width) in enumerate(zip(line, widths)))
                     .rstrip() for line in lines)


def _times(ratio: float | None) -> str:
    return f"{ratio:.2f}x" if ratio is not None else "-"


def _align(cell: str, width: int, index: int) -> str:
    return cell.ljust(width) if index < 2 else cell.rjust(width)
