"""The PostgreSQL pool pings (`SELECT 1`) only a connection that sat idle: one given back within
ping_after_idle_seconds goes out as it is. A connection the server closed while idle past the
window is found out and replaced; one closed within it fails the one request that takes it,
with a SCIM 503 (try again; connector.database_unavailable), and is not handed out again.

The window is set on the pool per test (an hour, or none), so no test depends on how fast the
machine runs. What a backend last ran is read from pg_stat_activity by another connection."""
from __future__ import annotations

import psycopg
import pytest

from connector.db import database, open_database
from connector.pg_pool import PostgresqlPool
from tests.helpers import assert_scim_error

HOUR = 3600.0


@pytest.fixture
def observer(db_url):
    """A connection of the test's own, outside the app's pool (PostgreSQL only)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("the pool's ping is PostgreSQL's")
    conn = psycopg.connect(db_url, autocommit=True)
    yield conn
    conn.close()


def last_statement(observer, pid: int) -> str:
    with observer.cursor() as cur:
        cur.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,))
        return cur.fetchone()[0]


def terminate(observer, pid: int) -> None:
    """Close the backend's connection from the server side and wait until it has gone."""
    with observer.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
        assert cur.fetchone()[0]


def next_pooled_backend() -> int:
    """The backend of the connection the pool hands out next: the pool gives out its oldest
    connection first, so checking one out and back in leaves it next in line."""
    database.connect()
    pid = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    database.execute_sql("SELECT 'given back'")
    database.close()
    return pid


@pytest.mark.parametrize("window,seen_on_check_out", [
    (HOUR, "SELECT 'given back'"),  # within the window: nothing sent, the last statement stands
    (0, "SELECT 1"),  # idle past it: pinged first
])
def test_a_connection_is_pinged_on_check_out_only_when_idle_past_the_window(app, observer, monkeypatch, window,
                                                                            seen_on_check_out):
    monkeypatch.setattr(database.obj, "ping_after_idle_seconds", window)
    pid = next_pooled_backend()
    database.connect()
    assert last_statement(observer, pid) == seen_on_check_out
    assert database.execute_sql("SELECT pg_backend_pid()").fetchone()[0] == pid
    database.close()


def test_a_connection_closed_by_the_server_while_idle_past_the_window_is_replaced(scim, observer, monkeypatch):
    user = scim.create_user("kim@acme.example")
    monkeypatch.setattr(database.obj, "ping_after_idle_seconds", 0)
    terminate(observer, next_pooled_backend())
    assert scim.get(f"/Users/{user['id']}").status_code == 200


def test_a_connection_closed_within_the_window_fails_one_request_with_a_scim_error(scim, observer, monkeypatch):
    user = scim.create_user("kim@acme.example")
    monkeypatch.setattr(database.obj, "ping_after_idle_seconds", HOUR)
    terminate(observer, next_pooled_backend())
    response = scim.get(f"/Users/{user['id']}", headers={"X-Request-Id": "lost-1"})
    assert_scim_error(response, 503, None, "The connection to the database was lost; try again. Request id: lost-1.")
    assert scim.get(f"/Users/{user['id']}").status_code == 200


def test_a_write_on_a_connection_closed_within_the_window_fails_with_a_scim_error(scim, observer, monkeypatch):
    user = scim.create_user("kim@acme.example")
    monkeypatch.setattr(database.obj, "ping_after_idle_seconds", HOUR)
    terminate(observer, next_pooled_backend())
    deactivate = {"op": "replace", "path": "active", "value": False}
    assert_scim_error(scim.ops(f"/Users/{user['id']}", deactivate, headers={"X-Request-Id": "lost-2"}),
                      503, None, "Request id: lost-2.")
    assert scim.ops(f"/Users/{user['id']}", deactivate).status_code == 200
    assert scim.get(f"/Users/{user['id']}").get_json()["active"] is False


def test_a_postgresql_pool_url_opens_the_same_pool(db_url):
    """playhouse's `postgresql+pool://` (accepted by the config) means what postgresql:// does."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a postgresql+pool:// URL is PostgreSQL's")
    db = open_database(db_url.replace("postgresql://", "postgresql+pool://", 1))
    assert isinstance(db, PostgresqlPool)
    db.connect()
    assert db.execute_sql("SELECT 1").fetchone() == (1,)
    db.close_all()
