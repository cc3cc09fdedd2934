"""The CSV bulk-invite benchmark works end to end on a small file (no figure is asserted)."""
import csv

import pytest

from benchmarks import csv_import as bench
from connector import directory, teams
from connector.csv_import import plan_import


def test_benchmark_file_shape(tmp_path):
    path = bench.write_file(tmp_path / "people.csv", 200)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0] == ["Email Address", "First Name", "Last Name", "Title", "Team", "Manager Email"]
    assert len(rows) == 201
    assert rows[1][5] == bench.BOSS and rows[150][5] == rows[50][0]  # line i is managed by line i % 100
    assert sum(row[0].endswith("@partner.example") for row in rows[1:]) == 60


@pytest.mark.slow
def test_measure_imports_a_small_file_on_sqlite(tmp_path):
    figures = bench.measure("sqlite", tmp_path, rows=30)
    assert figures.rows == 30 and figures.check_seconds > 0 and figures.import_seconds > 0
    table = bench.report([figures]).splitlines()
    assert table[0].split() == ["backend", "rows", "check", "s", "import", "s", "rows/s", "(import)"]
    assert table[1].split()[:2] == ["sqlite", "30"]


def test_the_file_passes_the_importers_check(org, tmp_path):
    """The same file, moved to the test organisation's domain, has no problem."""
    for i in range(bench.TEAMS):
        teams.create_team(org, f"Team {i}")
    directory.create_user(org, {"user_name": bench.BOSS.replace("import.example", "acme.example")})
    text = bench.write_file(tmp_path / "p.csv", 150).read_text().replace("import.example", "acme.example")
    plan = plan_import(org, text)
    assert plan.problems == [] and len(plan.invitees) == 150
