"""The printed table: one row per scenario and backend, throughput also as a ratio to the floor."""
from __future__ import annotations

from dataclasses import dataclass

from benchmarks.client import LoadResult

COLUMNS = ("scenario", "backend", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms",
           "vs floor", "worker RSS MB")


@dataclass(frozen=True)
class Row:
    scenario: str
    backend: str
    result: LoadResult
    worker_rss_mb: float

    def cells(self, floor_throughput: float | None) -> tuple[str, ...]:
        result = self.result
        ratio = f"{result.throughput / floor_throughput:.2f}x" if floor_throughput else "-"
        return (self.scenario, self.backend, str(result.requests), str(result.failure_count),
                f"{result.throughput:.1f}", f"{result.percentile_ms(50):.2f}", f"{result.percentile_ms(95):.2f}",
                f"{result.percentile_ms(99):.2f}", ratio, f"{self.worker_rss_mb:.1f}")


def format_table(rows: list[Row], floor_throughput: float | None) -> str:
    """Left-aligned text columns, right-aligned figures."""
    lines = [COLUMNS, *(row.cells(floor_throughput) for row in rows)]
    widths = [max(len(line[index]) for line in lines) for index in range(len(COLUMNS))]
    return "\n".join("  ".join(_align(cell, width, index) for index, (cell, width) in enumerate(zip(line, widths)))
                     .rstrip() for line in lines)


def _align(cell: str, width: int, index: int) -> str:
    return cell.ljust(width) if index < 2 else cell.rjust(width)
