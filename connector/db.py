"""The database: chosen from a URL at run time, opened per request, written in transactions.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout; write
transactions take the write lock up front (BEGIN IMMEDIATE) so two writers queue instead of
failing half-way. PostgreSQL gets a connection pool; serialization failures and deadlocks are
retried a few times before they surface.
"""
from __future__ import annotations

import functools
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from peewee import DatabaseProxy, OperationalError, PostgresqlDatabase, SqliteDatabase
from playhouse import db_url

database = DatabaseProxy()

SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("busy_timeout", 10_000),
    ("synchronous", "normal"),
)
POOL_OPTIONS = {"max_connections": 32, "stale_timeout": 300, "timeout": 20}
RETRY_ATTEMPTS = 5
_PG_RETRY_CODES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def open_database(url: str):
    """A peewee Database for the URL; postgresql:// gets a pool, sqlite:// the pragmas above."""
    scheme = urlparse(url).scheme
    if scheme in ("postgres", "postgresql"):
        url = url.replace(f"{scheme}://", "postgresql+pool://", 1)
        return db_url.connect(url, **POOL_OPTIONS)
    if scheme.startswith("sqlite"):
        path = db_url.parse(url)["database"]
        if path == ":memory:":
            return db_url.connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A pool keeps each connection (and its pragmas) across requests instead of reopening.
        pooled = url.replace(f"{scheme}://", "sqlite+pool://", 1)
        return db_url.connect(pooled, pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                              max_connections=POOL_OPTIONS["max_connections"], stale_timeout=None)
    raise ValueError(f"unsupported database URL scheme {scheme!r}")


def bind(url: str):
    """Point the shared proxy at the database for URL and return it."""
    db = open_database(url)
    database.initialize(db)
    return db


def is_sqlite(db=None) -> bool:
    db = db or database.obj
    return isinstance(db, SqliteDatabase)


def is_postgres(db=None) -> bool:
    db = db or database.obj
    return isinstance(db, PostgresqlDatabase)


def init_app(app, db) -> None:
    """Give each request's connection back afterwards. Connections are taken lazily from the
    pool on the first query, so requests that need no database (/healthz) never touch it."""

    @app.teardown_request
    def _close(exc):
        if not db.is_closed():
            db.close()


@contextmanager
def write_transaction():
    """One atomic write: BEGIN IMMEDIATE on SQLite so concurrent writers wait, not fail."""
    db = database.obj
    if is_sqlite(db) and not db.in_transaction():
        with db.atomic("IMMEDIATE") as txn:
            yield txn
    else:
        with db.atomic() as txn:
            yield txn


def retry_on_conflict(func):
    """Re-run a whole write transaction when PostgreSQL reports a serialization failure or
    deadlock (or SQLite stays locked past its busy timeout); the caller sees only the outcome."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - psycopg2's rollback errors are not peewee's
                if attempt == RETRY_ATTEMPTS or not _retryable(exc) or database.obj.in_transaction():
                    raise
                time.sleep(0.01 * 2 ** attempt)

    return wrapper


def _retryable(exc: Exception) -> bool:
    original = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
    if getattr(original, "pgcode", None) in _PG_RETRY_CODES or getattr(exc, "pgcode", None) in _PG_RETRY_CODES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)
