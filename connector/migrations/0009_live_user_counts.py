"""Each organisation's number of users not pending deletion, kept by the database itself.

A full page of GET /Users must say `totalResults` (RFC 7644 §3.4.2), and counting 100,000 users
through an index takes 5 to 9 ms on every page, whatever the depth: most of what a page costs.
`live_user_count` holds the count per organisation, moved by triggers on "user" (insert, delete,
a change of organisation or of pending_deletion_at), so every way a user row changes keeps it,
the directory's, an import's, a cascade from a deleted organisation, a hand-written statement.
No row means no user. connector.directory.live_user_count reads it.

On PostgreSQL the trigger is a deferred constraint trigger: it runs when its transaction
commits, so two requests creating users in one organisation wait for each other only while
one commits, not for the rest of the other's transaction. SQLite has one writer at a time and
no deferred triggers: its triggers run with each statement.

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

_POSTGRESQL = (
    """CREATE TABLE IF NOT EXISTS "live_user_count" (
        "organisation_id" INTEGER NOT NULL PRIMARY KEY REFERENCES "organisation" ("id") ON DELETE CASCADE,
        "users" INTEGER NOT NULL)""",
    """CREATE OR REPLACE FUNCTION "live_user_count_change"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD."pending_deletion_at" IS NULL THEN
            UPDATE "live_user_count" SET "users" = "users" - 1 WHERE "organisation_id" = OLD."organisation_id";
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW."pending_deletion_at" IS NULL THEN
            INSERT INTO "live_user_count" AS counted ("organisation_id", "users") VALUES (NEW."organisation_id", 1)
            ON CONFLICT ("organisation_id") DO UPDATE SET "users" = counted."users" + 1;
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE CONSTRAINT TRIGGER "live_user_count_insert_delete" AFTER INSERT OR DELETE ON "user"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "live_user_count_change"()""",
    """CREATE CONSTRAINT TRIGGER "live_user_count_update" AFTER UPDATE OF "organisation_id", "pending_deletion_at"
    ON "user" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD."organisation_id" IS DISTINCT FROM NEW."organisation_id"
          OR (OLD."pending_deletion_at" IS NULL) <> (NEW."pending_deletion_at" IS NULL))
    EXECUTE FUNCTION "live_user_count_change"()""",
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
