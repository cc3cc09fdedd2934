"""Statements on PostgreSQL go out with numbered parameters, converted once per process
(connector.pg_statements): the conversion itself, and statements run through the real pool,
including those with more parameters than psycopg keeps converted (50)."""
from __future__ import annotations

import logging

import peewee
import psycopg
import pytest

from benchmarks.seeding import insert_users
from connector import pg_statements
from connector.models import User
from connector.organisations import create_organisation
from connector.pg_statements import CACHED_LENGTH, numbered


@pytest.mark.parametrize("sql,parameters,expected", [
    ("SELECT %s", 1, "SELECT $1"),
    ('SELECT "a" FROM "t" WHERE ("a" IN (%s, %s, %s)) LIMIT %s', 4,
     'SELECT "a" FROM "t" WHERE ("a" IN ($1, $2, $3)) LIMIT $4'),
    ("SELECT %s || '%%'", 1, "SELECT $1 || '%'"),  # %% is a percent sign, as psycopg reads it
    ("SELECT %s%%%s", 2, "SELECT $1%$2"),
    ("SELECT 'a\n%s'", 1, "SELECT 'a\n$1'"),
])
def test_numbered_writes_each_parameter_as_its_number(sql, parameters, expected):
    assert numbered(sql, parameters) == expected


@pytest.mark.parametrize("sql,parameters", [
    ("SELECT %(name)s", 1),  # named parameters: psycopg's own conversion
    ("SELECT %b", 1),  # psycopg's binary placeholder
    ("SELECT 'unfinished %", 0),
    ("SELECT %s", 2),  # fewer placeholders than parameters: psycopg says so
    ("SELECT %s, %s", 1),
])
def test_numbered_leaves_anything_else_to_psycopg(sql, parameters):
    assert numbered(sql, parameters) is None


def test_a_long_statement_is_converted_without_being_kept():
    """A many-row INSERT of an import is converted each time, not kept in the worker's memory."""
    long = "INSERT INTO t (a) VALUES " + ", ".join(["(%s)"] * 3000)
    assert len(long) > CACHED_LENGTH
    before = pg_statements._kept.cache_info().currsize
    assert numbered(long, 3000) == "INSERT INTO t (a) VALUES " + ", ".join(f"(${n})" for n in range(1, 3001))
    assert pg_statements._kept.cache_info().currsize == before


@pytest.fixture
def postgres(db):
    if not isinstance(db, peewee.PostgresqlDatabase):
        pytest.skip("numbered parameters are PostgreSQL's")
    return db


def test_a_statement_with_more_parameters_than_psycopg_keeps_converted_runs_numbered(postgres):
    org = create_organisation("Numbers", slug="numbers", domains=["numbers.example"])
    ids = sorted(insert_users(postgres, org, "n", 120))
    cursor = postgres.execute(User.select(User.id).where(User.id.in_(ids)).order_by(User.id))
    assert isinstance(cursor, psycopg.RawCursor)
    assert [row[0] for row in cursor.fetchall()] == ids
    assert sorted(user.id for user in User.select().where(User.id.in_(ids[:60]))) == ids[:60]


def test_a_statement_longer_than_the_kept_ones_runs_numbered(postgres):
    org = create_organisation("Many", slug="many", domains=["many.example"])
    ids = sorted(insert_users(postgres, org, "m", 2500))
    query = User.select(User.id).where(User.id.in_(ids)).order_by(User.id)
    assert len(query.sql()[0]) > CACHED_LENGTH
    cursor = postgres.execute(query)
    assert isinstance(cursor, psycopg.RawCursor)
    assert [row[0] for row in cursor.fetchall()] == ids


def test_a_percent_sign_and_parameters_keep_their_meaning(postgres):
    assert postgres.execute_sql("SELECT %s || '%%' || %s", ["a", "b"]).fetchone() == ("a%b",)
    assert postgres.execute_sql("SELECT '100%%'").fetchone() == ("100%",)  # no parameters: psycopg's cursor


def test_peewee_logs_the_statement_as_it_wrote_it(postgres, caplog):
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        postgres.execute_sql("SELECT %s", [7])
    assert ("SELECT %s", [7]) in [record.msg for record in caplog.records]


def test_a_statement_psycopg_refuses_is_still_refused_with_its_reason(postgres):
    with pytest.raises(peewee.ProgrammingError, match="placeholders"):
        postgres.execute_sql("SELECT %s", [1, 2])
    with postgres.atomic():  # the connection is still usable
        assert postgres.execute_sql("SELECT %s", [3]).fetchone() == (3,)
