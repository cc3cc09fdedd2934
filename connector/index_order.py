"""Reading a whole organisation's users in the order of an index, on PostgreSQL, whatever the
planner's statistics say.

A page of GET /Users reads its ids by walking the partial index `user_listing` of migration
0008 in the listing order, index-only (its totalResults is kept, not counted: migration
0009). PostgreSQL weighs an index-only scan by the share of the table's pages marked
all-visible (pg_class.relallvisible), one figure for the whole table. Rows inserted or changed
since the last VACUUM, in any organisation, lower it; with one organisation most of the table
(a single-tenant deployment, or the benchmark's 100,000 users), the planner then reads the
organisation with a sequential scan, sorting all of it for a deep page (an external sort of
100,000 rows: 74 ms instead of 8 to 10), although the organisation's own pages were all
visible and its index-only scans fetch nothing from the table.

`walking_indexes()` runs its statements in a transaction of their own that turns off the plan
types which read the table regardless of order (sequential and bitmap scans) and sorting
(SET LOCAL: the settings end with the transaction, the pooled connection keeps none). Turned
off, a plan type only costs more: a statement that has no other way still runs. That added
cost (10^10) would also pass every threshold of JIT compilation, which then takes longer than
the statement (160 ms for a page of ids that walks its index in 15): JIT is turned off too.
"""
from __future__ import annotations

from contextlib import contextmanager

from connector.db import database, is_postgres

_SETTINGS = ("enable_seqscan", "enable_bitmapscan", "enable_sort", "jit")
_TURN_OFF = "SELECT " + ", ".join(f"set_config('{name}', 'off', true)" for name in _SETTINGS)


@contextmanager
def walking_indexes(wanted: bool = True):
    """Inside the block, on PostgreSQL and when `wanted`, statements read indexes in order (see
    the module's docstring); elsewhere nothing changes. Inside a caller's transaction the
    settings last until that transaction ends."""
    if not (wanted and is_postgres()):
        yield
        return
    with database.atomic():
        database.execute_sql(_TURN_OFF)
        yield
