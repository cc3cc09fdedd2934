"""The indexes a page of GET /Users reads, both partial over the users not pending deletion
(the predicate of connector.directory.users_query, which a query must repeat to use them):

- user_listing (organisation_id, created_at, id): the listing order, so paging deep (OFFSET)
  reads the index alone, never a row of the table to test `pending_deletion_at`;
- user_counted (organisation_id): `totalResults` counted over an index a tenth of the size
  (PostgreSQL keeps the equal keys once), which PostgreSQL counts with an index-only scan
  where it would otherwise read the whole table.

Both SQLite and PostgreSQL build partial indexes. Frozen here as SQL; connector/models.py
declares the same indexes.
"""


def up(migrator, db):
    db.execute_sql('CREATE INDEX IF NOT EXISTS "user_listing" ON "user" ("organisation_id", "created_at", "id") '
                   'WHERE "pending_deletion_at" IS NULL')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "user_counted" ON "user" ("organisation_id") '
                   'WHERE "pending_deletion_at" IS NULL')
