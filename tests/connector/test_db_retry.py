"""db.retry_on_conflict runs a write transaction again when PostgreSQL aborts it for a
deadlock or a serialization failure (real errors of those SQLSTATEs, raised by the server),
and lets every other error through at once."""
import pytest
from peewee import DataError

from connector.db import retry_on_conflict

pytestmark = pytest.mark.parametrize("database_template", ["postgresql"], indirect=True)


def failing_first(db, times: int, sqlstate: str):
    """A write transaction that PostgreSQL aborts with `sqlstate` the first `times` runs."""
    runs = []

    @retry_on_conflict
    def write():
        runs.append(1)
        with db.atomic():
            if len(runs) <= times:
                db.execute_sql(f"DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '{sqlstate}'; END $$")
            return len(runs)

    return write


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])  # deadlock_detected, serialization_failure
def test_deadlocks_and_serialization_failures_are_run_again(db, sqlstate):
    assert failing_first(db, 2, sqlstate)() == 3
    assert not db.in_transaction()


def test_other_errors_are_not_run_again(db):
    with pytest.raises(DataError):
        failing_first(db, 1, "22012")()  # division_by_zero


def test_a_conflict_that_never_ends_surfaces(db):
    with pytest.raises(Exception, match="conflict"):
        failing_first(db, 99, "40P01")()
