"""A network link to PostgreSQL that fails under idle pooled connections (no error from the
server, the socket just closes: a dropped link, a restarted proxy or load balancer) fails at
most the one request that takes such a connection, with a SCIM 503 "try again" and its request
id, never a 500; the request after it gets a new connection and succeeds. With the pool's ping
(a connection idle past the window), the dead connection is found out before any request uses
it. A database that cannot be reached at all is a 503 for every request, not a 500. The app
reaches the database through tests/connector/tcp_proxy.py on 127.0.0.1."""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

from connector.db import database
from tests.connector.tcp_proxy import DroppingProxy
from tests.helpers import assert_scim_error

LOST = "The connection to the database was lost; try again. Request id: {}."
HOUR = 3600.0


@pytest.fixture
def proxy(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("a network link to the database is PostgreSQL's")
    server = urlparse(db_url)
    with DroppingProxy((server.hostname, server.port or 5432)) as running:
        yield running


@pytest.fixture
def config_data(config_data, proxy):
    """The app's database URL goes through the proxy (the same database)."""
    server = urlparse(config_data["database_url"])
    credentials = server.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    return {**config_data, "database_url": server._replace(netloc=netloc).geturl()}


def test_the_app_reaches_the_database_through_the_proxy(scim, proxy):
    scim.create_user("kim@acme.example")
    assert proxy.drop_connections() > 0


def test_a_read_on_a_dropped_connection_is_a_503_and_the_next_read_succeeds(scim, proxy, monkeypatch):
    user = scim.create_user("kim@acme.example")
    monkeypatch.setattr(database.obj, "ping_after_idle_seconds", HOUR)
    proxy.drop_connections()
    assert_scim_error(scim.get(f"/Users/{user['id']}", headers={"X-Request-Id": "drop-1"}),
                      503, None, LOST.format("drop-1"))
    assert scim.get(f"/Users/{user['id']}").get_json()["userName"] == "kim@acme.example"


def test_a_write_on_a_dropped_connection_is_a_503_and_changes_nothing(scim, proxy, monkeypatch):
    user = scim.create_user("kim@acme.example")
    monkeypatch.setattr(database.obj, "ping_after_idle_seconds", HOUR)
    proxy.drop_connections()
    deactivate = {"op": "replace", "path": "active", "value": False}
    assert_scim_error(scim.ops(f"/Users/{user['id']}", deactivate, headers={"X-Request-Id": "drop-2"}),
                      503, None, LOST.format("drop-2"))
    assert scim.get(f"/Users/{user['id']}").get_json()["active"] is True
    assert scim.ops(f"/Users/{user['id']}", deactivate).status_code == 200
    assert scim.get(f"/Users/{user['id']}").get_json()["active"] is False


def test_with_the_ping_a_dropped_connection_is_replaced_before_any_request_uses_it(scim, proxy, monkeypatch):
    user = scim.create_user("kim@acme.example")
    monkeypatch.setattr(database.obj, "ping_after_idle_seconds", 0)
    proxy.drop_connections()
    assert scim.get(f"/Users/{user['id']}").status_code == 200


def test_a_database_that_cannot_be_reached_is_a_503_for_every_request(scim, proxy, monkeypatch):
    user = scim.create_user("kim@acme.example")
    monkeypatch.setattr(database.obj, "ping_after_idle_seconds", 0)
    proxy.refuse_new_connections()
    proxy.drop_connections()
    for request_id in ("down-1", "down-2"):
        assert_scim_error(scim.get(f"/Users/{user['id']}", headers={"X-Request-Id": request_id}),
                          503, None, f"The database cannot be reached; try again later. Request id: {request_id}.")
