"""Each organisation's count of changes to its listing, beside its count of users.

A page of GET /Users at depth continues from where an earlier page ended (connector.
listing_positions) instead of walking the listing from its first user. That is right only while
no user has joined or left the listing before that point, or moved in its order: `changes`
counts every such event, moved by the triggers of migration 0009 that move `users` (an insert
or delete of a user not pending deletion, a change of organisation or of pending deletion), and
now also by a change of `created_at` or `id`, which the listing is ordered by (no code changes
them; a statement written by hand could). It only ever grows: PostgreSQL's TRUNCATE, which
emptied the counts, now sets them to nought and counts a change, so a count of changes is never
seen twice for one organisation.

On SQLite the three triggers are made again; on PostgreSQL the functions that apply a change at
commit and that answer a TRUNCATE are replaced, and the row trigger on UPDATE is made again to
watch the two ordering columns too.
"""

atomic = True

_SQLITE = (
    'ALTER TABLE "live_user_count" ADD COLUMN "changes" INTEGER NOT NULL DEFAULT 0',
    'DROP TRIGGER IF EXISTS "live_user_count_insert"',
    'DROP TRIGGER IF EXISTS "live_user_count_delete"',
    'DROP TRIGGER IF EXISTS "live_user_count_update"',
    """CREATE TRIGGER "live_user_count_insert" AFTER INSERT ON "user" WHEN NEW."pending_deletion_at" IS NULL
    BEGIN
        INSERT INTO "live_user_count" ("organisation_id", "users", "changes") VALUES (NEW."organisation_id", 1, 1)
        ON CONFLICT ("organisation_id") DO UPDATE SET "users" = "users" + 1, "changes" = "changes" + 1;
    END""",
    """CREATE TRIGGER "live_user_count_delete" AFTER DELETE ON "user" WHEN OLD."pending_deletion_at" IS NULL
    BEGIN
        UPDATE "live_user_count" SET "users" = "users" - 1, "changes" = "changes" + 1
        WHERE "organisation_id" = OLD."organisation_id";
    END""",
    """CREATE TRIGGER "live_user_count_update"
    AFTER UPDATE OF "organisation_id", "pending_deletion_at", "created_at", "id" ON "user"
    WHEN OLD."organisation_id" IS NOT NEW."organisation_id"
        OR (OLD."pending_deletion_at" IS NULL) <> (NEW."pending_deletion_at" IS NULL)
        OR OLD."created_at" IS NOT NEW."created_at" OR OLD."id" IS NOT NEW."id"
    BEGIN
        UPDATE "live_user_count" SET "users" = "users" - 1, "changes" = "changes" + 1
        WHERE "organisation_id" = OLD."organisation_id" AND OLD."pending_deletion_at" IS NULL;
        INSERT INTO "live_user_count" ("organisation_id", "users", "changes")
        SELECT NEW."organisation_id", 1, 1 WHERE NEW."pending_deletion_at" IS NULL
        ON CONFLICT ("organisation_id") DO UPDATE SET "users" = "users" + 1, "changes" = "changes" + 1;
    END""",
)

_POSTGRESQL = (
    'ALTER TABLE "live_user_count" ADD COLUMN "changes" BIGINT NOT NULL DEFAULT 0',
    """CREATE OR REPLACE FUNCTION "live_user_count_apply"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM "organisation" WHERE "id" = NEW."organisation_id") THEN
            INSERT INTO "live_user_count" AS counted ("organisation_id", "users", "changes")
            VALUES (NEW."organisation_id", NEW."users", 1)
            ON CONFLICT ("organisation_id") DO UPDATE
            SET "users" = counted."users" + EXCLUDED."users", "changes" = counted."changes" + 1;
        END IF;
        DELETE FROM "live_user_count_change" WHERE "id" = NEW."id";
        RETURN NULL;
    END
    $$""",
    """CREATE OR REPLACE FUNCTION "live_user_count_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE "live_user_count" SET "users" = 0, "changes" = "changes" + 1;
        DELETE FROM "live_user_count_change";
        RETURN NULL;
    END
    $$""",
    'DROP TRIGGER IF EXISTS "live_user_count_update" ON "user"',
    """CREATE TRIGGER "live_user_count_update"
    AFTER UPDATE OF "organisation_id", "pending_deletion_at", "created_at", "id" ON "user"
    FOR EACH ROW WHEN (OLD."organisation_id" IS DISTINCT FROM NEW."organisation_id"
                       OR (OLD."pending_deletion_at" IS NULL) <> (NEW."pending_deletion_at" IS NULL)
                       OR OLD."created_at" IS DISTINCT FROM NEW."created_at" OR OLD."id" IS DISTINCT FROM NEW."id")
    EXECUTE FUNCTION "live_user_count_moved"()""",
)


def up(migrator, db):
    from peewee import PostgresqlDatabase

    for statement in _POSTGRESQL if isinstance(db, PostgresqlDatabase) else _SQLITE:
        db.execute_sql(statement)
