"""Bulk invite from CSV: how fast `ally-scim import` takes a 10,000-line file, on a fresh SQLite
database and (when ALLY_TEST_POSTGRES_URL is set) a private PostgreSQL database.

The file is what a real roll-out looks like: 70% of the users on the auto-join domain (they join
directly), 30% outside it (each gets an invitation and an email in the outbox), every user in
one of 20 existing teams and with a manager (one existing user manages the first 100 lines,
who manage everyone else). Both runs are the real command in its own process, timed from
outside: `--dry-run` (read and check only), then the import (which checks again, then writes).
Figures are printed, never asserted.

    python -m benchmarks.csv_import [--rows N] [--backend sqlite|postgresql]
    python -m benchmarks             # runs it after the HTTP scenarios
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.servers import (POSTGRES_ENV, BenchmarkError, ally_scim, free_port, progress, scratch_database,
                                write_config)

NAME = "csv import"
HEADING = "Bulk invite from CSV: `ally-scim import` of a fresh file into a fresh database, timed from outside the process."
ROWS = 10_000
TEAMS = 20
MANAGERS = 100
ORG = {"name": "Import Corp", "slug": "import", "domains": ["import.example"], "outside_domains": "invite"}
BOSS = "ceo@import.example"


@dataclass(frozen=True)
class Figures:
    backend: str
    rows: int
    check_seconds: float
    import_seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.import_seconds


def measure(backend: str, workdir: Path, rows: int = ROWS) -> Figures:
    """Time `import --dry-run` and `import` of a fresh file on a fresh database."""
    with scratch_database(backend, workdir) as database_url:
        config = write_config(workdir, database_url, free_port(), organisations=[ORG])
        ally_scim(config, "init")
        _prepare(config)
        path = write_file(workdir / f"people-{backend}.csv", rows)
        checked = _timed(config, "import", "--org", ORG["slug"], "--dry-run", str(path))
        imported = _timed(config, "import", "--org", ORG["slug"], str(path))
        counted = ally_scim(config, "org", "show", ORG["slug"], "--json")
        joined = sum(1 for i in range(rows) if _address(i).endswith("@import.example")) + 1  # and BOSS
        if f'"active": {joined}' not in counted:
            raise BenchmarkError(f"the import on {backend} did not create the users it should have:\n{counted}")
    return Figures(backend, rows, checked, imported)


def write_file(path: Path, rows: int) -> Path:
    """The benchmark's CSV file (see the module doc for its shape)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Email Address", "First Name", "Last Name", "Title", "Team", "Manager Email"])
        for i in range(rows):
            manager = BOSS if i < MANAGERS else _address(i % MANAGERS)
            writer.writerow([_address(i), f"First{i}", f"Last{i}", "Engineer", f"Team {i % TEAMS}", manager])
    return path


def report(figures: list[Figures]) -> str:
    lines = ["backend     rows   check s  import s  rows/s (import)"]
    lines += [f"{f.backend:<10} {f.rows:>5} {f.check_seconds:>9.2f} {f.import_seconds:>9.2f} {f.rows_per_second:>16.0f}"
              for f in figures]
    return "\n".join(lines)


def run(backends: list[str], rows: int = ROWS) -> tuple[list[Figures], list[str]]:
    figures, problems = [], []
    with tempfile.TemporaryDirectory(prefix="ally-bench-csv-") as workdir:
        for backend in backends:
            progress(f"{backend}: {NAME} of {rows} lines")
            try:
                figures.append(measure(backend, Path(workdir), rows))
            except BenchmarkError as exc:
                problems.append(f"{NAME} on {backend}: {exc}")
    return figures, problems


def _address(i: int) -> str:
    """Line i's address: 7 in 10 on the auto-join domain."""
    return f"user{i}@{'import.example' if i % 10 < 7 else 'partner.example'}"


def _prepare(config: Path) -> None:
    """The teams the file names and the manager above everyone, made through the directory."""
    from connector import create_app, directory, teams
    from connector.config import load_settings
    from connector.db import database
    from connector.organisations import find_organisation

    app = create_app(load_settings(config, env={}))
    with app.app_context(), database.connection_context():
        org = find_organisation(ORG["slug"])
        for i in range(TEAMS):
            teams.create_team(org, f"Team {i}")
        directory.create_user(org, {"user_name": BOSS}, values={"emails": [{"value": BOSS, "primary": True}]})
    database.obj.close_all()


def _timed(config: Path, *args: str) -> float:
    started = time.perf_counter()
    ally_scim(config, *args)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.csv_import", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=ROWS, help=f"lines in the file (default {ROWS})")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"],
                        help=f"repeatable; default: sqlite, and postgresql when {POSTGRES_ENV} is set")
    args = parser.parse_args(argv)
    backends = args.backend or (["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"])
    figures, problems = run(backends, args.rows)
    print(f"{HEADING}\n{report(figures)}")
    for problem in problems:
        print(f"\nPROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
