"""Seeding a server's database straight from the benchmark process, for the scenarios that need
many users, memberships or organisations: one portable INSERT ... SELECT per table (a second or
two for 100,000 rows), where HTTP calls or even the directory's bulk path would take longer than
the whole run. Organisations and teams are still made by the directory.
"""
from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def server_database(ctx):
    """The server's database, opened in this process with the server's own config."""
    from connector import db
    from connector.config import load_settings

    database = db.bind(load_settings(ctx.config).database_url)
    database.connect(reuse_if_open=True)
    try:
        yield database
    finally:
        database.close()


def user_name(org, prefix: str, i: int) -> str:
    """The userName (and email) of the i-th user insert_users made with this prefix."""
    return f"{prefix}.{org.slug}.{i}@bench.example"


def insert_users(database, org, prefix: str, count: int) -> list[str]:
    """`count` active users with ids <slug>-<prefix>-<n> and user_name(org, prefix, n), in one
    statement; their ids in order."""
    from connector.clock import utcnow

    stem, mail = f"{org.slug}-{prefix}-", f"{prefix}.{org.slug}."
    p = database.param
    database.execute_sql(
        f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {p}) "
        'INSERT INTO "user" (id, organisation_id, user_name, user_name_key, email, email_key, status, is_admin, '
        "managed_by_idp, version, created_at, updated_at) "
        f"SELECT {p} || CAST(i AS TEXT), {p}, {p} || CAST(i AS TEXT) || '@bench.example', "
        f"{p} || CAST(i AS TEXT) || '@bench.example', {p} || CAST(i AS TEXT) || '@bench.example', "
        f"{p} || CAST(i AS TEXT) || '@bench.example', 'active', FALSE, FALSE, 1, {p}, {p} FROM n",
        (count, stem, org.id, mail, mail, mail, mail, utcnow(), utcnow()))
    return [f"{stem}{i}" for i in range(count)]


def insert_work_emails(org) -> None:
    """A primary work email row, as an IdP's POST leaves, for every user of `org` (call it once,
    after insert_users and an ANALYZE: see users._seed_scales)."""
    from peewee import Value

    from connector.models import User, UserValue

    rows = User.select(User.id, Value("emails"), Value(0), User.email, User.email_key, Value("work"),
                       Value(True)).where(User.organisation == org)
    UserValue.insert_from(rows, [UserValue.user, UserValue.kind, UserValue.position, UserValue.value,
                                 UserValue.value_key, UserValue.type, UserValue.primary]).execute()


def insert_members(database, team_id: str, user_ids: list[str], count: int) -> list[str]:
    """Memberships of the team for `count` of these users (made by one insert_users call), in
    one statement; the ids of the users it chose."""
    from connector.clock import utcnow
    from connector.models import User

    stem = user_ids[0].rsplit("-", 1)[0] + "-"
    chosen = User.select(User.id).where(User.id.startswith(stem)).order_by(User.id).limit(count)
    sql, params = chosen.sql()
    p = database.param
    database.execute_sql(f"INSERT INTO membership (team_id, user_id, created_at) SELECT {p}, c.id, {p} "
                         f"FROM ({sql}) AS c", (team_id, utcnow(), *params))
    return [user_id for user_id, in database.execute_sql(sql, params)]
