"""The PostgreSQL connection pool: peewee's, minus the liveness check of connections that were
in use a moment ago.

peewee's pool sends `SELECT 1` on every check-out of an idle connection, to discard one the
server closed while it sat in the pool (a restart, pg_terminate_backend, a dropped network).
On PostgreSQL that is a round trip before every request's first statement. A connection given
back less than PING_AFTER_IDLE_SECONDS ago is handed out without it; one idle for longer is
checked as before. If a connection does die within the window, the request's first statement
fails, the request answers a SCIM 503 "try again" with its request id (cause in the log;
connector.database_unavailable), and the dead connection is not put back into the pool
(peewee's check-in drops a connection whose state is unknown), so only that one request fails.
"""
from __future__ import annotations

import time

from playhouse.pool import PooledPostgresqlDatabase

from connector.pg_statements import NumberedParameters

# Within a burst of IdP requests a connection comes back within milliseconds; after two seconds
# of quiet, one ping (~0.1 ms) is nothing against the pause, and it keeps the window in which a
# killed connection goes unnoticed short.
PING_AFTER_IDLE_SECONDS = 2.0


class PostgresqlPool(NumberedParameters, PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool that pings only connections idle for PING_AFTER_IDLE_SECONDS.
    (The pool's own timestamp of a connection is when it was made, for stale_timeout; this
    keeps when it was given back.)"""

    ping_after_idle_seconds = PING_AFTER_IDLE_SECONDS

    def __init__(self, *args, **kwargs):
        self._returned_at: dict[int, float] = {}  # key of a connection in the pool -> monotonic time
        super().__init__(*args, **kwargs)

    def _close(self, conn, close_conn=False):
        key = self.conn_key(conn)
        with self._pool_lock:
            returning = not close_conn and key in self._in_use
            super()._close(conn, close_conn)
            if returning and not conn.closed:  # back in the pool, not closed as stale or broken
                self._returned_at[key] = time.monotonic()

    def _is_closed(self, conn):
        """Called under the pool lock when a connection leaves the pool."""
        returned_at = self._returned_at.pop(self.conn_key(conn), None)
        if returned_at is not None and time.monotonic() - returned_at < self.ping_after_idle_seconds \
                and not conn.closed and self._adapter.txn_status(conn) == self._adapter.txn_idle:
            return False
        return super()._is_closed(conn)

    def close_idle(self):
        with self._pool_lock:
            super().close_idle()
            self._returned_at.clear()
