"""db.cached_select: the SQL text and the column mapping are worked out on the first run of a
shape; later runs with other parameters give exactly what the query itself gives, as model
objects or tuples, with values converted by their fields, and an empty result too."""
from datetime import datetime

import pytest

from connector.db import cached_select
from connector.models import User


@pytest.fixture
def users(make_user):
    return [make_user(f"cached{i}@acme.example") for i in range(3)]


def by_id(user_id):
    return User.select().where(User.id == user_id)


def names(user_id):
    return User.select(User.user_name, User.created_at).where(User.id == user_id).tuples()


@pytest.mark.parametrize("build", [by_id, names], ids=["models", "tuples"])
def test_every_run_gives_what_the_query_gives(db, users, build):
    shape = ("test_cached_select", build.__name__)
    for user in [*users, *users]:
        cached = cached_select(shape, lambda user=user: build(user.id), [user.id])
        direct = list(build(user.id))
        assert len(cached) == 1
        if build is by_id:
            assert cached[0].__data__ == direct[0].__data__ and not cached[0].dirty_fields
        else:
            assert cached == direct and isinstance(cached[0][1], type(direct[0][1]))
    assert cached_select(shape, lambda: build("nobody"), ["nobody"]) == []


def test_parameters_that_do_not_match_the_query_are_refused(db, users):
    with pytest.raises(ValueError, match="parameters"):
        cached_select(("test_cached_select", "mismatch"), lambda: by_id(users[0].id), [users[0].id, 1])


def test_cached_execute_writes_what_the_statement_writes(db, users):
    from connector.db import cached_execute

    shape = ("test_cached_execute", "title")
    for i, user in enumerate(users):
        cursor = cached_execute(shape, lambda user=user, i=i: User.update(title=f"T{i}").where(User.id == user.id),
                                [f"T{i}", user.id])
        assert cursor.rowcount == 1
    assert [User.get_by_id(user.id).title for user in users] == ["T0", "T1", "T2"]
    assert cached_execute(shape, lambda: User.update(title="x").where(User.id == "nobody"), ["x", "nobody"]).rowcount == 0


def test_cached_execute_refuses_parameters_that_do_not_match(db, users):
    from connector.db import cached_execute

    with pytest.raises(ValueError, match="parameters"):
        cached_execute(("test_cached_execute", "mismatch"),
                       lambda: User.update(title="x").where(User.id == users[0].id), [users[0].id, "x"])


WHERES = [
    lambda v: User.user_name_key == v,
    lambda v: User.user_name_key.is_null(False) & (User.user_name_key == v),
    lambda v: (User.email_key == v) | (User.external_id != v) & (User.user_name_key.in_([v, v + "x"])),
    lambda v: (User.created_at > datetime(2026, 1, 1)) & (User.display_name == v),
]


@pytest.mark.parametrize("where", WHERES)
def test_where_shape_gives_the_parameters_peewee_writes_and_one_shape_per_text(db, where):
    from connector.db import where_shape

    first, second = where_shape(where("a@acme.example")), where_shape(where("b@acme.example"))
    assert first[0] == second[0]
    for value, (_, params) in (("a@acme.example", first), ("b@acme.example", second)):
        assert params == User.select(User.id).where(where(value)).sql()[1]
    assert where_shape(User.user_name_key == "a") != where_shape(User.email_key == "a")


def test_where_shape_leaves_out_what_it_cannot_read(db):
    from peewee import fn

    from connector.db import where_shape

    assert where_shape(fn.LOWER(User.user_name) == "a") is None
    assert where_shape(User.id.in_(User.select(User.id))) is None


def test_unpredicted_parameters_run_the_query_as_built_when_not_strict(db, users):
    shape = ("test_cached_select", "not strict")
    for _ in range(2):
        found = cached_select(shape, lambda: by_id(users[0].id), ["wrong"], strict=False)
        assert [user.id for user in found] == [users[0].id]
