"""The number of an organisation's users not pending deletion, kept by the database (migration
0009), is what counting them gives, whatever changed the user rows: the directory, a bulk
create, a pending deletion, a purge, a statement written by hand, a transaction that adds and
removes one user. An unfiltered page of users says it as its totalResults."""
from connector import deletion, directory, migrate
from connector.db import database, open_database, write_transaction
from connector.models import User
from connector.objectives import add_objective, reassign_objectives
from connector.organisations import create_organisation


def assert_counted(*orgs):
    for org in orgs:
        assert directory.live_user_count(org) == directory.users_query(org).count(), org.slug


def test_count_follows_creates_deletions_and_pending_deletion(org, make_user):
    other = create_organisation("Globex", slug="globex", domains=["globex.example"])
    assert directory.live_user_count(org) == 0
    ann, bob, cy = (make_user(f"{name}@acme.example") for name in ("ann", "bob", "cy"))
    make_user("dee@globex.example", organisation=other)
    assert (directory.live_user_count(org), directory.live_user_count(other)) == (3, 1)

    add_objective(org, bob, "Keep the lights on")
    assert deletion.scim_delete_user(ann) == "deleted"
    assert deletion.scim_delete_user(bob) == "pending_deletion"
    assert directory.live_user_count(org) == 1
    assert_counted(org, other)

    reassign_objectives(org, bob, cy)
    assert deletion.purge(org) == ["bob@acme.example"]  # was not counted: pending deletion
    directory.create_users(org, [({"user_name": f"bulk{n}@acme.example"}, None) for n in range(25)])
    assert directory.live_user_count(org) == 26
    assert_counted(org, other)


def test_count_follows_statements_written_by_hand(org, make_user):
    users = [make_user(f"u{n}@acme.example") for n in range(4)]
    other = create_organisation("Globex", slug="globex")
    User.update(organisation=other).where(User.id == users[0].id).execute()
    User.update(pending_deletion_at=User.created_at).where(User.id == users[1].id).execute()
    User.update(display_name="Renamed", pending_deletion_at=None).where(User.organisation == org).execute()
    assert (directory.live_user_count(org), directory.live_user_count(other)) == (3, 1)
    User.delete().where(User.organisation == org).execute()
    assert (directory.live_user_count(org), directory.live_user_count(other)) == (0, 1)
    assert_counted(org, other)


def test_a_user_added_and_removed_in_one_transaction_counts_nothing(org, make_user):
    make_user("stays@acme.example")
    with write_transaction():
        passing = make_user("passing@acme.example")
        deletion.delete_user(passing)
    assert directory.live_user_count(org) == 1
    assert_counted(org)


def test_a_saved_user_is_counted_once(org, make_user):
    """peewee's save() writes every column, pending_deletion_at included: the count stays."""
    user = make_user("ann@acme.example")
    user.display_name = "Ann"
    user.save()
    assert directory.live_user_count(org) == 1


def test_unfiltered_page_reports_the_kept_count(scim, org, make_user):
    for n in range(5):
        make_user(f"u{n}@acme.example")
    page = scim.get("/Users?startIndex=2&count=2").get_json()
    assert (page["totalResults"], page["itemsPerPage"]) == (5, 2)
    filtered = scim.get('/Users?count=2&filter=userName sw "u"').get_json()
    assert filtered["totalResults"] == 5


def test_upgrade_counts_the_users_already_there(tmp_path):
    """A database made before migration 0009 gets its counts filled from its users."""
    db = open_database(f"sqlite:///{tmp_path}/old.db")
    db.connect()
    migrate.runner(db).up(target="0008_user_listing_index")
    for slug, users, pending in (("a", 3, 1), ("b", 2, 0)):
        org = db.execute_sql("INSERT INTO organisation (name, slug, domains, outside_domains, skip_invitations, "
                             "admin_groups, admin_groups_are_teams, created_at, updated_at) "
                             "VALUES (?, ?, '[]', 'invite', 0, '[]', 1, '2026-01-01', '2026-01-01')",
                             (slug, slug)).lastrowid
        for n in range(users):
            db.execute_sql('INSERT INTO "user" (id, organisation_id, user_name, status, is_admin, managed_by_idp, '
                           "version, created_at, updated_at, pending_deletion_at) "
                           "VALUES (?, ?, ?, 'active', 0, 0, 1, '2026-01-01', '2026-01-01', ?)",
                           (f"{slug}{n}", org, f"{slug}{n}", "2026-01-02" if n < pending else None))
    assert migrate.upgrade(db) == ["0009_live_user_counts", "0010_listing_changes"]
    counts = dict(db.execute_sql('SELECT o.slug, c.users FROM live_user_count c '
                                 'JOIN organisation o ON o.id = c.organisation_id').fetchall())
    assert counts == {"a": 2, "b": 2}
    db.execute_sql('DELETE FROM "user" WHERE id = ?', ("b0",))  # migration 0010's triggers count it
    assert db.execute_sql("SELECT users, changes FROM live_user_count c JOIN organisation o "
                          "ON o.id = c.organisation_id WHERE o.slug = 'b'").fetchone() == (1, 1)
    db.close()


def test_concurrent_creates_keep_the_count(app, org):
    """Creates in one organisation from several threads (PostgreSQL: several transactions
    committing at once, each moving the count when it commits)."""
    import threading

    from connector.organisations import find_organisation

    errors = []

    def create(worker):
        try:
            with app.app_context():
                database.connect(reuse_if_open=True)
                acme = find_organisation("acme")
                for n in range(10):
                    directory.create_user(acme, {"user_name": f"w{worker}-{n}@acme.example"})
                database.close()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = 4
    threads = [threading.Thread(target=create, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert directory.live_user_count(org) == 10 * workers
    assert_counted(org)


def test_generated_sequences_of_changes_keep_the_count(scim, org):
    """Hypothesis: any sequence of what an IdP and the admins do to users (SCIM creates,
    deletes, suspensions, deletions of objective owners, reassignment and purge, a bulk
    create) leaves the kept count equal to counting, and an unfiltered page says it."""
    from itertools import count

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    names = count()
    actions = st.lists(st.tuples(st.sampled_from(["create", "create", "delete", "suspend", "own_and_delete",
                                                  "reassign_and_purge", "bulk"]), st.integers(0, 50)),
                       min_size=1, max_size=12)

    def live_ids():
        return [user.id for user in directory.users_query(org).order_by(User.created_at, User.id)]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(actions)
    def run(steps):
        for action, pick in steps:
            ids = live_ids()
            chosen = ids[pick % len(ids)] if ids else None
            if action == "create" or chosen is None:
                assert scim.create_user(f"gen{next(names)}@acme.example")
            elif action == "delete":
                assert scim.delete(f"/Users/{chosen}").status_code == 204
            elif action == "suspend":
                patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                         "Operations": [{"op": "replace", "path": "active", "value": False}]}
                assert scim.patch(f"/Users/{chosen}", patch).status_code == 200
            elif action == "own_and_delete":
                add_objective(org, User.get_by_id(chosen), "Owned")
                assert scim.delete(f"/Users/{chosen}").status_code == 204  # pending deletion
            elif action == "reassign_and_purge" and len(ids) > 0:
                for pending in deletion.pending_deletion(org):
                    reassign_objectives(org, pending, User.get_by_id(chosen))
                deletion.purge(org)
            elif action == "bulk":
                directory.create_users(org, [({"user_name": f"gen{next(names)}@acme.example"}, None)
                                             for _ in range(pick % 4 + 1)])
            assert_counted(org)
        page = scim.get("/Users?count=1").get_json()
        assert page["totalResults"] == directory.users_query(org).count()

    run()


def test_a_bulk_statement_moves_the_count_once(org):
    """One INSERT of 500 users and one DELETE of 111 keep the count; on PostgreSQL each is one
    change, applied to the organisation's row at commit (row by row, PostgreSQL kept every
    version of that row until commit and slowed down quadratically)."""
    from benchmarks.seeding import insert_users

    from connector.db import is_postgres

    def changes_so_far() -> tuple[int, int]:
        rows = dict(database.execute_sql("SELECT relname, n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables "
                                         "WHERE relname IN ('live_user_count', 'live_user_count_change')").fetchall())
        return rows.get("live_user_count_change", 0), rows.get("live_user_count", 0)

    with database.atomic():
        insert_users(database.obj, org, "bulk", 500)
        if is_postgres():
            assert changes_so_far() == (1, 0)  # kept aside until commit
        User.delete().where(User.id.startswith(f"{org.slug}-bulk-1")).execute()  # 1, 10-19, 100-199: 111
        if is_postgres():
            assert changes_so_far() == (2, 0)
    assert directory.live_user_count(org) == 500 - 111
    assert_counted(org)
    if is_postgres():
        assert database.execute_sql('SELECT COUNT(*) FROM "live_user_count_change"').fetchone() == (0,)


def test_emptying_the_user_table_empties_the_counts(org, make_user):
    """PostgreSQL's TRUNCATE fires no row or insert/delete trigger; its own empties the counts.
    (SQLite has no TRUNCATE: a DELETE without WHERE fires the row triggers.)"""
    from connector.db import is_postgres

    for n in range(3):
        make_user(f"u{n}@acme.example")
    database.execute_sql('TRUNCATE "user" CASCADE' if is_postgres() else 'DELETE FROM "user"')
    assert directory.live_user_count(org) == 0
    make_user("again@acme.example")
    assert directory.live_user_count(org) == 1
    assert_counted(org)
