"""Schema migrations: peewee's playhouse.migrations Runner over connector/migrations."""
from __future__ import annotations

from pathlib import Path

from playhouse.migrations import Runner

from connector.db import database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def runner(db=None) -> Runner:
    return Runner(db or database.obj, str(MIGRATIONS_DIR))


def upgrade(db=None) -> list[str]:
    """Apply every pending migration in order; returns the names applied (empty when current)."""
    return runner(db).up()


def pending(db=None) -> list[str]:
    return [m.name for m in runner(db).status() if m.applied is None and m.path is not None]
