"""Fixtures: a real database per test (a SQLite file, and PostgreSQL when ALLY_TEST_POSTGRES_URL
is set), the app built by the real factory, its test client, and the CLI.

Every test that takes `app`, `db` or `db_url` runs once per database backend. Without
ALLY_TEST_POSTGRES_URL the PostgreSQL runs are skipped with a visible reason; with it, an
unreachable server is an error, never a silent skip.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest
import yaml
from click.testing import CliRunner

from connector import create_app, migrate
from connector.config import settings_from_dict
from connector.db import database, open_database

POSTGRES_ENV = "ALLY_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")

DEMO_ORG = {
    "name": "Acme Corp",
    "slug": "acme",
    "domains": ["acme.example"],
    "outside_domains": "invite",
    "admin_groups": ["Ally Admins"],
}


@pytest.fixture(scope="session", params=BACKENDS)
def database_template(request, tmp_path_factory):
    """A migrated database for the session: a template SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "template.db"
        url = f"sqlite:///{path}"
        _migrate(url)
        yield ("sqlite", path)
        return
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL runs of database tests are skipped")
    url = _create_pg_database(server)
    _migrate(url)
    yield ("postgresql", url)
    _drop_pg_database(server, url)


@pytest.fixture
def db_url(database_template, tmp_path):
    """A database URL holding the migrated, empty schema, private to this test."""
    return empty_database(database_template, tmp_path)


def empty_database(database_template, directory: Path) -> str:
    """The URL of the migrated, empty schema: a copy of the SQLite template in directory, or
    the session's PostgreSQL database emptied (also for a module's server: tests/live_server.py)."""
    kind, where = database_template
    if kind == "sqlite":
        path = directory / "ally.db"
        shutil.copyfile(where, path)
        return f"sqlite:///{path}"
    _truncate_pg(where)
    return where


@pytest.fixture
def config_data(db_url):
    """The config as a dict; tests may change it before asking for `settings` or `app`."""
    return {
        "database_url": db_url,
        "public_url": "https://ally.test",
        "organisations": [dict(DEMO_ORG)],
    }


@pytest.fixture
def settings(config_data):
    return settings_from_dict(config_data)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    with app.app_context():
        database.connect(reuse_if_open=True)
        from connector import organisations

        organisations.bootstrap(settings.organisations)
        database.close()
    yield app
    _close(database.obj)


@pytest.fixture
def db(app):
    """An app context with an open connection, for calling the domain services directly."""
    with app.app_context():
        database.connect(reuse_if_open=True)
        yield database.obj
        if not database.is_closed():
            database.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def config_file(config_data, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config_data))
    return path


@pytest.fixture
def cli(app, config_file):
    """Run `ally-scim ARGS` in-process with click's runner against this test's database."""
    from connector.cli import cli as root

    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(root, ["--config", str(config_file), *args], input=input, catch_exceptions=False)

    return invoke


def _migrate(url: str) -> None:
    db = open_database(url)
    db.connect()
    migrate.upgrade(db)
    if url.startswith("sqlite"):
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    _close(db)


def _close(db) -> None:
    if db is None:
        return
    if hasattr(db, "close_all"):
        db.close_all()
    elif not db.is_closed():
        db.close()


def _pg_connect(server_url: str):
    try:
        return psycopg.connect(server_url, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"{POSTGRES_ENV}={server_url} is set but PostgreSQL does not answer: {exc}", pytrace=False)


def _create_pg_database(server_url: str) -> str:
    name = f"ally_test_{uuid.uuid4().hex[:12]}"
    conn = _pg_connect(server_url)
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return urlunparse(urlparse(server_url)._replace(path=f"/{name}"))


def _drop_pg_database(server_url: str, url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    conn = _pg_connect(server_url)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def _truncate_pg(url: str) -> None:
    conn = psycopg.connect(url, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migration'")
        tables = ", ".join(f'"{row[0]}"' for row in cur.fetchall())
        if tables:
            cur.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    conn.close()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
