"""Each organisation's number of users not pending deletion, kept by the database itself.

A full page of GET /Users must say `totalResults` (RFC 7644 §3.4.2), and counting 100,000 users
through an index takes 5 to 9 ms on every page, whatever the depth: most of what a page costs.
`live_user_count` holds the count per organisation, moved by triggers on "user" (insert, delete,
a change of organisation or of pending_deletion_at), so every way a user row changes keeps it,
the directory's, an import's, a cascade from a deleted organisation, a hand-written statement.
No row means no user. connector.directory.live_user_count reads it.

On PostgreSQL a statement's change is kept aside (`live_user_count_change`, one row per
statement and organisation, over the statement's rows: a bulk import or a purge is one change)
and applied when its transaction commits (a deferred constraint trigger), so two requests
creating users in one organisation wait for each other on the count only while one commits,
and a transaction that inserts 100,000 users updates the count once. (Updated once per user
instead, the organisation's row took 109 s for those 100,000: PostgreSQL keeps every version
of a row a transaction updates until it ends.) SQLite has one writer at a time and updates the
row in place: its triggers run for each row (SQLite has no TRUNCATE; PostgreSQL's empties the
counts with the users).

The table is filled from "user" in the same transaction that creates the triggers; on
PostgreSQL, CREATE TRIGGER holds off writes to "user" until that transaction ends. PostgreSQL's
`user_counted` index (migration 0008), which only that COUNT read, is dropped: one index fewer
to write on every insert.
"""

atomic = True

_SQLITE = (
    """CREATE TABLE IF NOT EXISTS "live_user_count" (
        "organisation_id" INTEGER NOT NULL PRIMARY KEY REFERENCES "organisation" ("id") ON DELETE CASCADE,
        "users" INTEGER NOT NULL)""",
    """CREATE TRIGGER "live_user_count_insert" AFTER INSERT ON "user" WHEN NEW."pending_deletion_at" IS NULL
    BEGIN
        INSERT INTO "live_user_count" ("organisation_id", "users") VALUES (NEW."organisation_id", 1)
        ON CONFLICT ("organisation_id") DO UPDATE SET "users" = "users" + 1;
    END""",
    """CREATE TRIGGER "live_user_count_delete" AFTER DELETE ON "user" WHEN OLD."pending_deletion_at" IS NULL
    BEGIN
        UPDATE "live_user_count" SET "users" = "users" - 1 WHERE "organisation_id" = OLD."organisation_id";
    END""",
    """CREATE TRIGGER "live_user_count_update" AFTER UPDATE OF "organisation_id", "pending_deletion_at" ON "user"
    WHEN OLD."organisation_id" IS NOT NEW."organisation_id"
        OR (OLD."pending_deletion_at" IS NULL) <> (NEW."pending_deletion_at" IS NULL)
    BEGIN
        UPDATE "live_user_count" SET "users" = "users" - 1
        WHERE "organisation_id" = OLD."organisation_id" AND OLD."pending_deletion_at" IS NULL;
        INSERT INTO "live_user_count" ("organisation_id", "users")
        SELECT NEW."organisation_id", 1 WHERE NEW."pending_deletion_at" IS NULL
        ON CONFLICT ("organisation_id") DO UPDATE SET "users" = "users" + 1;
    END""",
)


def _per_statement(event: str, rows: str, sign: str) -> tuple[str, str]:
    """The function and statement-level trigger that keep aside, for each organisation, the
    users an INSERT adds or a DELETE removes (the statement's rows: `rows`)."""
    name, alias = f"live_user_count_{event.lower()}", rows.rsplit(" ", 1)[-1]
    return (
        f"""CREATE OR REPLACE FUNCTION "{name}"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO "live_user_count_change" ("organisation_id", "users")
            SELECT "organisation_id", {sign}COUNT(*) FROM {alias} WHERE "pending_deletion_at" IS NULL
            GROUP BY "organisation_id";
            RETURN NULL;
        END
        $$""",
        f"""CREATE TRIGGER "{name}" AFTER {event} ON "user" REFERENCING {rows}
        FOR EACH STATEMENT EXECUTE FUNCTION "{name}"()""",
    )


_POSTGRESQL = (
    """CREATE TABLE IF NOT EXISTS "live_user_count" (
        "organisation_id" INTEGER NOT NULL PRIMARY KEY REFERENCES "organisation" ("id") ON DELETE CASCADE,
        "users" INTEGER NOT NULL)""",
    # What a statement changed, per organisation, until its transaction commits.
    """CREATE TABLE IF NOT EXISTS "live_user_count_change" (
        "id" BIGSERIAL PRIMARY KEY, "organisation_id" INTEGER NOT NULL, "users" INTEGER NOT NULL)""",
    *(statement for event, rows, sign in (("INSERT", "NEW TABLE AS added", ""), ("DELETE", "OLD TABLE AS removed", "-"))
      for statement in _per_statement(event, rows, sign)),
    # A user leaving or rejoining the count (pending deletion, a move): rare, one row at a time.
    # (Statement triggers with transition tables cannot name columns: one on UPDATE would run
    # for every change of a user.)
    """CREATE OR REPLACE FUNCTION "live_user_count_moved"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO "live_user_count_change" ("organisation_id", "users")
        SELECT OLD."organisation_id", -1 WHERE OLD."pending_deletion_at" IS NULL
        UNION ALL SELECT NEW."organisation_id", 1 WHERE NEW."pending_deletion_at" IS NULL;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER "live_user_count_update" AFTER UPDATE OF "organisation_id", "pending_deletion_at" ON "user"
    FOR EACH ROW WHEN (OLD."organisation_id" IS DISTINCT FROM NEW."organisation_id"
                       OR (OLD."pending_deletion_at" IS NULL) <> (NEW."pending_deletion_at" IS NULL))
    EXECUTE FUNCTION "live_user_count_moved"()""",
    # TRUNCATE fires no row or insert/delete trigger: it empties the counts with the users.
    """CREATE OR REPLACE FUNCTION "live_user_count_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM "live_user_count";
        DELETE FROM "live_user_count_change";
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER "live_user_count_truncate" AFTER TRUNCATE ON "user"
    FOR EACH STATEMENT EXECUTE FUNCTION "live_user_count_truncate"()""",
    # At commit: each change moves its organisation's count (the organisation may have gone
    # with the users in the same transaction), and is dropped.
    """CREATE OR REPLACE FUNCTION "live_user_count_apply"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM "organisation" WHERE "id" = NEW."organisation_id") THEN
            INSERT INTO "live_user_count" AS counted ("organisation_id", "users")
            VALUES (NEW."organisation_id", NEW."users")
            ON CONFLICT ("organisation_id") DO UPDATE SET "users" = counted."users" + EXCLUDED."users";
        END IF;
        DELETE FROM "live_user_count_change" WHERE "id" = NEW."id";
        RETURN NULL;
    END
    $$""",
    """CREATE CONSTRAINT TRIGGER "live_user_count_apply" AFTER INSERT ON "live_user_count_change"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "live_user_count_apply"()""",
)

FILL = ('INSERT INTO "live_user_count" ("organisation_id", "users") '
        'SELECT "organisation_id", COUNT(*) FROM "user" WHERE "pending_deletion_at" IS NULL GROUP BY "organisation_id"')


def up(migrator, db):
    from peewee import PostgresqlDatabase

    postgresql = isinstance(db, PostgresqlDatabase)
    for statement in _POSTGRESQL if postgresql else _SQLITE:
        db.execute_sql(statement)
    if postgresql:
        db.execute_sql('DROP INDEX IF EXISTS "user_counted"')
    db.execute_sql('DELETE FROM "live_user_count"')
    db.execute_sql(FILL)
