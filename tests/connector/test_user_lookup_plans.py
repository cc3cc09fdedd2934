"""An IdP's lookup of a user by userName and the uniqueness check of a create read the unique
userName index, whatever the planner's statistics say (migration 0007): here a new
organisation's users arrive with no statistics at all, or after the last ANALYZE (as in an
initial sync), and every statement the requests send is explained.

Entra's membership reference check (`id eq "g" and members eq "u"`) searches the membership
index for the user, not through all the team's members, and its lookup by work email (the
second matching attribute the README suggests) searches the values index, not every user.

A page of users (Okta's paging) walks the listing indexes (migration 0008) in order, even when
PostgreSQL's statistics say that much of the table was changed since the last VACUUM
(connector.index_order)."""
import logging
import re
from contextlib import contextmanager
from urllib.parse import quote

import pytest

from benchmarks.seeding import insert_users, insert_work_emails
from connector import index_order
from connector.db import database, is_postgres
from connector.models import Organisation
from connector.organisations import create_organisation
from oauth.tokens import create_token
from tests.connector.group_helpers import bulk_users, team_with
from tests.helpers import Api

USERS = 3_000
KEY_INDEX = "user_user_name_key_organisation_id"


@pytest.fixture
def config_data(config_data):
    return {**config_data, "rate_limit": {"enabled": False}}


@pytest.fixture(params=["no statistics", "stale statistics"])
def newcomer(db, client, request):
    """The SCIM API of an organisation whose users were inserted after any statistics."""
    org = create_organisation("Newcomer", slug="newcomer", domains=["newcomer.example"])
    if request.param == "stale statistics":
        database.obj.execute_sql("ANALYZE")
    insert_users(database.obj, org, "u", USERS)
    _, token = create_token(str(org.id), name="Entra")
    return Api(client, headers={"Authorization": f"Bearer {token}"})


@contextmanager
def statements():
    """The (sql, params) of every statement peewee sends meanwhile."""
    sent = []

    class Capture(logging.Handler):
        def emit(self, record):
            if isinstance(record.msg, tuple):
                sent.append(record.msg)

    logger, handler = logging.getLogger("peewee"), Capture()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield sent
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def plan(sql: str, params) -> str:
    explain = "EXPLAIN " if is_postgres() else "EXPLAIN QUERY PLAN "
    return "\n".join(str(row[-1]) for row in database.execute_sql(explain + sql, params).fetchall())


def user_name_reads(sent) -> list[str]:
    """The plans of the statements that look users up by userName."""
    return [plan(sql, params) for sql, params in sent
            if sql.startswith("SELECT") and 'FROM "user"' in sql
            and ('"user_name_key" IN' in sql or '"user_name_key" = ' in sql)]


@pytest.mark.parametrize("user_name", ["u.newcomer.2500@bench.example", "nobody@newcomer.example"])
def test_a_username_lookup_reads_the_username_index(newcomer, user_name):
    with statements() as sent:
        response = newcomer.get("/Users?filter=" + quote(f'userName eq "{user_name}"'))
    assert response.status_code == 200
    plans = user_name_reads(sent)
    assert len(plans) == 1  # the page; a page that is not full counts itself (ListQuery.page)
    assert all(KEY_INDEX in text for text in plans), plans


def test_a_create_checks_uniqueness_through_the_key_indexes(newcomer):
    with statements() as sent:
        newcomer.create_user("new.person@newcomer.example")
    plans = user_name_reads(sent)
    assert plans and all(KEY_INDEX in text and "user_email_key_organisation_id" in text for text in plans), plans


@pytest.fixture
def crowded(db, client):
    """The SCIM API of an organisation that is most of the "user" table, its pages all visible
    (VACUUM), after another organisation's users arrived (ANALYZE only, as before autovacuum
    gets to a bulk import): PostgreSQL's statistics then count a third of the pages as not
    all-visible, and without connector.index_order it scans and sorts the table for a page."""
    org = create_organisation("Crowded", slug="crowded", domains=["crowded.example"])
    insert_users(database.obj, org, "u", USERS)
    database.obj.execute_sql("VACUUM ANALYZE" if is_postgres() else "ANALYZE")
    insert_users(database.obj, create_organisation("Other", slug="other", domains=["other.example"]), "o", USERS // 2)
    database.obj.execute_sql("ANALYZE")
    _, token = create_token(str(org.id), name="Okta")
    return Api(client, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("start", [1, USERS // 2 + 1, USERS - 99])
def test_a_page_of_users_walks_the_listing_indexes(crowded, start):
    with statements() as sent:
        response = crowded.get(f"/Users?startIndex={start}&count=100")
    assert response.status_code == 200
    assert response.get_json()["totalResults"] == USERS and len(response.get_json()["Resources"]) == 100
    reads = [(sql, params) for sql, params in sent if sql.startswith("SELECT") and 'FROM "user"' in sql
             and ("ORDER BY" in sql or "COUNT(" in sql)]
    assert len(reads) == 1  # the page; its totalResults (a full page) is kept, not counted (migration 0009)
    assert any('FROM "live_user_count"' in sql for sql, _ in sent)
    assert any("set_config('enable_seqscan'" in sql for sql, _ in sent) == is_postgres()
    if not is_postgres():
        return  # SQLite reads user_listing by itself (test_migrations)
    with index_order.walking_indexes():
        page = plan(*reads[0])
    assert "Index Only Scan using user_listing" in page and "Seq Scan" not in page and "Bitmap" not in page, page


@pytest.mark.parametrize("written", [str, str.upper], ids=["as-returned", "in-capitals"])
def test_a_membership_reference_check_searches_the_index_for_the_user(db, client, written):
    """members.value is caseExact false; the ids it names are lower-case, so the check needs no
    LOWER() over the column, which would walk every membership of the team (10 ms at 50,000)."""
    org = create_organisation("Big", slug="big", domains=["big.example"])
    member_ids = bulk_users(org, "m", USERS)
    team = team_with(org, "Everyone", member_ids)
    database.obj.execute_sql("VACUUM ANALYZE" if is_postgres() else "ANALYZE")
    _, token = create_token(str(org.id), name="Entra")
    api = Api(client, headers={"Authorization": f"Bearer {token}"})
    with statements() as sent:
        response = api.get("/Groups", query_string={
            "filter": f'id eq "{team.id}" and members eq "{written(member_ids[-1])}"', "attributes": "id"})
    assert response.get_json()["totalResults"] == 1
    checks = [plan(sql, params) for sql, params in sent if 'FROM "membership"' in sql]
    assert checks, sent
    for text in checks:
        assert "lower" not in text.lower(), text
        if is_postgres():
            assert re.search(r"Index (Only )?Scan using membership_\w+ .*\n.*Index Cond: .*user_id = ", text), text
        else:
            assert re.search(r"INDEX membership_\w+ \((team_id=\? AND )?user_id=\?\)", text), text


def test_a_work_email_lookup_searches_the_values_index(newcomer):
    """Entra's `emails[type eq "work"].value eq "x"` finds the value first (18 ms -> 1.2 ms in
    process at 20,000 users on SQLite, which walked every user of the organisation)."""
    insert_work_emails(Organisation.get(Organisation.slug == "newcomer"))
    database.obj.execute_sql("ANALYZE")
    with statements() as sent:
        response = newcomer.get("/Users?filter=" + quote('emails[type eq "work"].value eq "U.Newcomer.2500@bench.example"'))
    assert response.get_json()["totalResults"] == 1
    plans = [plan(sql, params) for sql, params in sent if 'FROM "user" AS' in sql and 'FROM "user_value"' in sql]
    assert plans, sent
    assert all("user_value_kind_value_key" in text and "user_listing" not in text for text in plans), plans


@pytest.mark.parametrize("text", ['emails.value co "2500"', 'emails[type eq "work"]', "emails pr"])
def test_a_filter_that_fixes_no_value_walks_the_organisations_users(newcomer, text):
    """Only an `eq` on the value reads the values first: any other filter would read the
    values of every organisation, so it walks this organisation's users (EXISTS) instead."""
    with statements() as sent:
        assert newcomer.get("/Users?filter=" + quote(text)).status_code == 200
    reads = [sql for sql, _ in sent if 'FROM "user_value"' in sql and sql.startswith('SELECT "t1"."id"')]
    assert reads and all("EXISTS(" in sql and " IN (SELECT" not in sql for sql in reads), reads


def test_a_negated_value_lookup_is_an_anti_join_on_postgresql(newcomer):
    """SQLite finds the value first (`id IN (SELECT ...)`); PostgreSQL keeps the EXISTS, which
    it plans as a semi-join from the same index, and under NOT as an anti-join, where NOT IN
    would hash the whole subquery, or scan it once per row once it outgrows work_mem."""
    insert_work_emails(Organisation.get(Organisation.slug == "newcomer"))
    database.obj.execute_sql("ANALYZE")
    with statements() as sent:
        response = newcomer.get("/Users?filter=" + quote('not (emails.value eq "u.newcomer.7@bench.example")'))
    assert response.get_json()["totalResults"] == USERS - 1
    reads = [(sql, params) for sql, params in sent if 'FROM "user_value"' in sql and sql.startswith('SELECT "t1"."id"')]
    assert reads
    for sql, params in reads:
        if is_postgres():
            assert "NOT EXISTS(" in sql and " IN (SELECT" not in sql, sql
            assert "Anti Join" in plan(sql, params), plan(sql, params)
        else:
            assert "NOT (\"t1\".\"id\" IN (SELECT" in sql, sql
