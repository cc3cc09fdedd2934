"""The printed table: one row per scenario and backend, throughput also as a ratio to the floor:
the floor measured next to the scenario when the run did (`floor req/s`: the higher of its
measures right before and right after), else the floor of the run's start."""
from __future__ import annotations

from dataclasses import dataclass

from benchmarks.client import LoadResult

COLUMNS = ("scenario", "backend", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms",
           "floor req/s", "vs floor", "worker RSS MB")


@dataclass(frozen=True)
class Row:
    scenario: str
    backend: str
    result: LoadResult
    worker_rss_mb: float
    floor_throughput: float | None = None  # the floor's requests/s measured next to this scenario

    def ratio(self, run_floor: float | None) -> float | None:
        """Throughput as a share of the floor next to it (else of the run's floor)."""
        floor = self.floor_throughput or run_floor
        return self.result.throughput / floor if floor else None

    def cells(self, run_floor: float | None) -> tuple[str, ...]:
        result, ratio = self.result, self.ratio(run_floor)
        return (self.scenario, self.backend, str(result.requests), str(result.failure_count),
                f"{result.throughput:.1f}", f"{result.percentile_ms(50):.2f}", f"{result.percentile_ms(95):.2f}",
                f"{result.percentile_ms(99):.2f}", f"{self.floor_throughput:.0f}" if self.floor_throughput else "-",
                f"{ratio:.2f}x" if ratio is not None else "-", f"{self.worker_rss_mb:.1f}")


def format_table(rows: list[Row], run_floor: float | None) -> str:
    """Left-aligned text columns, right-aligned figures."""
    lines = [COLUMNS, *(row.cells(run_floor) for row in rows)]
    widths = [max(len(line[index]) for line in lines) for index in range(len(COLUMNS))]
    return "\n".join("  ".join(_align(cell, width, index) for index, (cell, width) in enumerate(zip(line, widths)))
                     .rstrip() for line in lines)


def _align(cell: str, width: int, index: int) -> str:
    return cell.ljust(width) if index < 2 else cell.rjust(width)
