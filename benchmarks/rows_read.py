"""How many rows a request reads, measured on the database itself.

PostgreSQL: the server's own statistics. Counters of pg_stat_user_tables and
pg_stat_user_indexes are read before and after PATCHES requests sent over HTTP to the server
under test (nothing else runs meanwhile), after waiting for the workers' backends to flush
their statistics; the difference divided by the number of requests is reported as table rows
read (seq_tup_read + idx_tup_fetch: rows read by sequential scans and fetched by index scans)
and index entries read (idx_tup_read), every statement of the request included (the bearer
token lookup too).

SQLite keeps no such counters. The same requests go to the same database file through an
in-process app (connector.create_app with the server's config); every statement they issue is
captured and explained (EXPLAIN QUERY PLAN): a read is an index SEARCH (a bounded number of
rows) or a SCAN of a whole table, which would grow with the table.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from contextlib import contextmanager

from benchmarks.client import run_load
from benchmarks.servers import HOST

PATCHES = 20
STATS_FLUSH_SECONDS = 11  # PostgreSQL backends flush their statistics within 10 s of going idle


def postgres_rows(ctx, requests: dict) -> list[str]:
    """One line per entry of `requests` (label -> request_for(i)): rows read per request."""
    import psycopg

    from connector.config import load_settings

    connection = psycopg.connect(load_settings(ctx.config).database_url, autocommit=True)
    lines = []
    try:
        time.sleep(STATS_FLUSH_SECONDS)  # earlier scenarios' statistics are in before we start
        before = _pg_counters(connection)
        for label, request_for in requests.items():
            _send(ctx, request_for)
            time.sleep(STATS_FLUSH_SECONDS)
            after = _pg_counters(connection)
            lines.append(f"{label}: " + _pg_delta(before, after))
            before = after
    finally:
        connection.close()
    return lines


def _send(ctx, request_for) -> None:
    result = run_load(HOST, ctx.port, request_for, total=PATCHES, clients=1, time_limit=120)
    if result.failure_count or result.requests != PATCHES:
        raise RuntimeError(f"rows read: unexpected answers: {'; '.join(result.failures)}")


def _pg_counters(connection) -> dict[str, tuple[int, int, int]]:
    """{table: (table rows read, index entries read, sequential scans, live rows)} so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("""
            SELECT t.relname, coalesce(t.seq_tup_read, 0) + coalesce(t.idx_tup_fetch, 0),
                   coalesce((SELECT sum(i.idx_tup_read) FROM pg_stat_user_indexes i WHERE i.relid = t.relid), 0),
                   coalesce(t.seq_scan, 0), t.n_live_tup
            FROM pg_stat_user_tables t""")
        return {table: tuple(int(n) for n in counts) for table, *counts in cursor.fetchall()}


def _pg_delta(before: dict, after: dict) -> str:
    """Per request: rows, index entries, and the tables read, with their sequential scans (on
    a table of a few pages PostgreSQL prefers one to an index; it reads every row of it)."""
    per = {table: [(now - then) / PATCHES for now, then in zip(after[table][:3], before.get(table, (0, 0, 0)))]
           for table in after}
    by_table = ", ".join(f"{table} {rows:g}" + (f" ({scans:g} seq scans of its {after[table][3]} rows)" if scans else "")
                         for table, (rows, _, scans) in sorted(per.items()) if rows)
    return (f"{sum(p[0] for p in per.values()):.1f} table rows and {sum(p[1] for p in per.values()):.1f} index "
            f"entries per request (mean of {PATCHES}); rows by table: {by_table}")


def sqlite_plans(ctx, requests: dict) -> list[str]:
    """One line per entry of `requests`: statements per request and how each one reads."""
    from connector import create_app
    from connector.config import load_settings
    from connector.db import database

    app = create_app(load_settings(ctx.config))
    client = app.test_client()
    with _quiet():
        return [f"{label}: " + _sqlite_reads(app, client, database, request_for)
                for label, request_for in requests.items()]


def _sqlite_reads(app, client, database, request_for) -> str:
    """Send request_for(0) and (1), then explain every statement they issued."""
    from playhouse.test_utils import count_queries

    with app.app_context(), count_queries() as captured:
        for i in range(2):
            request = request_for(i)
            response = client.open(request.path, method=request.method, data=request.body,
                                   headers=dict(request.headers))
            if response.status_code != 200:
                raise RuntimeError(f"rows read: {request.method} {request.path} answered {response.status_code}")
    with app.app_context():
        reads = Counter(_sqlite_read(database, *query.msg) for query in captured.get_queries())
    reads.pop(None, None)
    return (f"{captured.count / 2:g} statements per request; reads: "
            + ", ".join(f"{kind} {count / 2:g}" for kind, count in sorted(reads.items())))


def _sqlite_read(database, sql: str, params) -> str | None:
    """'index search' or 'full scan (...)' for a statement that reads a table, else None."""
    if not sql.startswith(("SELECT", "UPDATE", "DELETE")):
        return None
    details = [row[-1] for row in database.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()]
    scans = [detail for detail in details if detail.startswith("SCAN")]  # a whole table or index
    return f"full scan ({'; '.join(scans)})" if scans else "index search"


@contextmanager
def _quiet():
    """The in-process app's request and statement logs stay out of the report."""
    loggers = [logging.getLogger(name) for name in ("peewee", "connector", "peewee.pool")]
    saved = [(logger.propagate, logger.level) for logger in loggers]
    for logger in loggers:
        logger.propagate = False
    try:
        yield
    finally:
        for logger, (propagate, level) in zip(loggers, saved):
            logger.propagate, logger.level = propagate, level
