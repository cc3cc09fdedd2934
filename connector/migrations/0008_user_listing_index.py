"""The indexes a page of GET /Users reads, both partial over the users not pending deletion
(the predicate of connector.directory.users_query, which a query must repeat to use them):

- user_listing (organisation_id, created_at, id, pending_deletion_at): the listing order, so
  paging deep (OFFSET) and, on SQLite, counting read the index alone, never a row of the table
  to test `pending_deletion_at`. The last column is always NULL here; it is there so that
  SQLite's planner sees the index as covering: without it, given statistics (ANALYZE), SQLite
  counts over the narrower `organisation_id` index and reads every row (30 ms, not 4, at
  100,000 users);
- user_counted (organisation_id), on PostgreSQL only: `totalResults` counted with an
  index-only scan of an index a tenth of the size of user_listing (PostgreSQL keeps equal
  keys once), where PostgreSQL would otherwise read the whole table. SQLite counts
  user_listing nearly as fast, and without planner statistics (SQLite gathers none by
  itself) it would read the narrower index for a page too, and sort the organisation.

Both SQLite and PostgreSQL build partial indexes. Frozen here as SQL; connector/models.py
declares the same indexes.
"""
from peewee import PostgresqlDatabase


def up(migrator, db):
    db.execute_sql('CREATE INDEX IF NOT EXISTS "user_listing" ON "user" '
                   '("organisation_id", "created_at", "id", "pending_deletion_at") WHERE "pending_deletion_at" IS NULL')
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql('CREATE INDEX IF NOT EXISTS "user_counted" ON "user" ("organisation_id") '
                       'WHERE "pending_deletion_at" IS NULL')
