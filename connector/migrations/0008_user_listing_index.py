"""The index a page of GET /Users reads: the organisation's users not pending deletion, in
their listing order (created_at, id). Partial, so paging deep (OFFSET) and counting
`totalResults` read this index alone, never a row of the table to test `pending_deletion_at`
(connector.directory.users_query has the same predicate, which the index needs to be used).

Both SQLite and PostgreSQL build partial indexes. Frozen here as SQL; connector/models.py
declares the same index.
"""


def up(migrator, db):
    db.execute_sql('CREATE INDEX IF NOT EXISTS "user_listing" ON "user" ("organisation_id", "created_at", "id") '
                   'WHERE "pending_deletion_at" IS NULL')
