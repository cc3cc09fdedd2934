"""Planner statistics on PostgreSQL, as a database in service has them.

In service, autovacuum ANALYZEs a table within a minute (its default naptime) of enough rows
changing. A test server may run with `autovacuum = off`; its tables then have no statistics at
all, and PostgreSQL plans a lookup of one user by userName as a scan of the whole organisation
through the (organisation, created) index: every request then grows with the number of users,
which is the test server's configuration, not the connector's. While the scenarios run,
`autovacuum_stand_in` does autovacuum's part on such a server: VACUUM ANALYZE every minute.
The VACUUM matters too: it marks the pages whose rows every transaction sees (the visibility
map), which an index-only scan needs to leave the table alone (counting a page's
totalResults, picking a deep page's ids); autovacuum vacuums a table after enough inserts.
`as_in_service` does the same once, for a scenario that seeds rows straight into the database.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from benchmarks.servers import postgres_statement, progress

NAPTIME_SECONDS = 60  # PostgreSQL's default autovacuum_naptime


@contextmanager
def autovacuum_stand_in(backend: str, database_url: str, interval: float = NAPTIME_SECONDS):
    """VACUUM ANALYZE the database every `interval` seconds inside the block when it is
    PostgreSQL and its server's autovacuum is off; otherwise nothing."""
    if backend != "postgresql" or _autovacuum_on(database_url):
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(target=_analyze_until, args=(database_url, interval, stop), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def as_in_service(database) -> None:
    """Statistics (and on PostgreSQL the visibility map) for rows just seeded into `database`
    (a connected peewee database, outside a transaction), as autovacuum leaves them in service."""
    from connector.db import is_postgres

    database.execute_sql("VACUUM ANALYZE" if is_postgres(database) else "ANALYZE")


def _autovacuum_on(database_url: str) -> bool:
    return postgres_statement(database_url, "SHOW autovacuum")[0][0] == "on"


def _analyze_until(database_url: str, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        started = time.perf_counter()
        postgres_statement(database_url, "VACUUM ANALYZE")
        # Among the scenarios' progress lines: a figure measured meanwhile shared the machine with it.
        progress(f"postgresql: autovacuum stand-in: VACUUM ANALYZE of the whole database took "
                 f"{time.perf_counter() - started:.1f} s")
