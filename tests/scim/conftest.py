"""Fixtures for the protocol tests: the test SCIM app (tests/scim/testapp.py) over a real
database, once on SQLite and once on PostgreSQL (the `db_url` fixture of tests/conftest.py)."""
from __future__ import annotations

import pytest

from connector.db import open_database
from tests.helpers import Api
from tests.scim import testapp


@pytest.fixture
def scim_db(db_url):
    """The test app's tables in this test's database. They stay in the session's private
    PostgreSQL database (emptied before each test by `db_url`); SQLite files are per test."""
    database = open_database(db_url)
    database.bind(testapp.MODELS)
    database.connect(reuse_if_open=True)
    database.create_tables(testapp.MODELS, safe=True)
    testapp.clock["now"] = None
    yield database
    database.close()
    if hasattr(database, "close_all"):
        database.close_all()


@pytest.fixture
def scim_app(scim_db):
    app = testapp.make_app(scim_db)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def api(scim_app):
    return Api(scim_app.test_client())
