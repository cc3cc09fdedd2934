"""Lookups of one user by a key read that key's index whatever the planner's statistics say.

PostgreSQL chooses between indexes by estimated rows; with no statistics, or statistics taken
before a new organisation's users arrived, every index leading with organisation_id looks as
cheap as the unique (organisation_id, user_name_key) one, and a userName lookup or a create's
uniqueness check read all of the organisation's users through the wrong one. Lookups by id,
userName and email now compare the organisation in a form no index serves
(connector.directory.by_key), so the key's own index is the only one that fits: the unique
indexes lead with the key. The plain organisation_id index (the foreign key's) is dropped: every
query by organisation has a composite index leading with it.
"""

atomic = True


def up(migrator, db):
    migrator.migrate(
        migrator.drop_index("user", "user_organisation_id"),
        migrator.drop_index("user", "user_organisation_id_user_name_key"),
        migrator.drop_index("user", "user_organisation_id_email_key"),
        migrator.add_index("user", ("user_name_key", "organisation_id"), unique=True),
        migrator.add_index("user", ("email_key", "organisation_id"), unique=True),
    )
