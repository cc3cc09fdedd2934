"""Schema changes only through numbered migrations; `ally-scim init` is idempotent."""
from connector import migrate
from connector.db import is_postgres, open_database


def test_migrations_from_empty_and_again(tmp_path):
    db = open_database(f"sqlite:///{tmp_path}/fresh.db")
    db.connect()
    applied = migrate.upgrade(db)
    assert applied[0] == "0001_initial"
    assert migrate.pending(db) == []
    assert migrate.upgrade(db) == []
    assert {"user", "team", "membership", "organisation", "outbox_message", "audit_event"} <= set(db.get_tables())
    db.close()


def test_migrated_schema_is_current(db):
    assert migrate.pending() == []


def test_init_is_idempotent(cli):
    first = cli("init")
    assert first.exit_code == 0, first.output
    assert "organisation acme" in first.output
    second = cli("init")
    assert second.exit_code == 0
    assert "schema: up to date" in second.output
    assert "organisation acme: unchanged" in second.output


def test_user_listing_reads_the_partial_index(tmp_path):
    """Migration 0008: on SQLite a page of users and its totalResults read only the partial
    index of users not pending deletion (the predicate of connector.directory.users_query),
    with and without planner statistics."""
    db = open_database(f"sqlite:///{tmp_path}/plan.db")
    db.connect()
    migrate.upgrade(db)
    org = db.execute_sql("INSERT INTO organisation (name, slug, domains, outside_domains, skip_invitations, "
                         "admin_groups, admin_groups_are_teams, created_at, updated_at) "
                         "VALUES ('A', 'a', '[]', 'invite', 0, '[]', 1, '2026-01-01', '2026-01-01')").lastrowid
    for statistics in (False, True):
        if statistics:
            for n in range(50):
                db.execute_sql("INSERT INTO \"user\" (id, organisation_id, user_name, status, is_admin, "
                               "managed_by_idp, version, created_at, updated_at) "
                               "VALUES (?, ?, ?, 'active', 0, 0, 1, '2026-01-01', '2026-01-01')", (f"u{n}", org, f"u{n}"))
            db.execute_sql("ANALYZE")
        for sql in ('SELECT id FROM "user" WHERE organisation_id = 1 AND pending_deletion_at IS NULL '
                    "ORDER BY created_at, id LIMIT 100 OFFSET 1000",
                    'SELECT COUNT(1) FROM "user" WHERE organisation_id = 1 AND pending_deletion_at IS NULL'):
            plan = " ".join(str(row[-1]) for row in db.execute_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "COVERING INDEX user_listing" in plan and "TEMP B-TREE" not in plan, plan
    db.close()


def test_user_counted_index_is_gone(db):
    """Migration 0009: totalResults of an unfiltered page is kept, not counted, so PostgreSQL's
    counting index of migration 0008 went."""
    names = {index.name for index in db.get_indexes("user")}
    assert "user_listing" in names and "user_counted" not in names
