"""Pages of GET /Users at depth continue from where an earlier page ended
(connector.listing_positions), and say exactly what a walk from the first user says, whatever
happened to the users in between: creates, deletions, pending deletions, hand-written changes
of the order's columns."""
from datetime import timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.seeding import insert_users
from connector import deletion, directory, listing_positions
from connector.db import database
from connector.listing_positions import LISTING_ORDER, MIN_DEPTH
from connector.models import User
from connector.objectives import add_objective

SEEDED = MIN_DEPTH + 400
PAGE = 100
_names = count()


def walked(org, start_index: int, count: int) -> list[str]:
    """The page as OFFSET from the first user gives it: what every page must say."""
    return [user.id for user in directory.users_query(org).order_by(*LISTING_ORDER)
            .offset(start_index - 1).limit(count)]


def page(scim, start_index: int, count: int = PAGE) -> dict:
    response = scim.get(f"/Users?startIndex={start_index}&count={count}&attributes=id")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(document: dict) -> list[str]:
    return [resource["id"] for resource in document.get("Resources", [])]


def remembered(org) -> dict:
    changes = directory.live_listing(org)[1]
    kept = listing_positions._kept.get(listing_positions._identity(org))
    return kept[1] if kept and kept[0] == changes else {}


def test_paging_in_order_continues_from_the_previous_page(scim, org, make_user):
    for n in range(3):
        make_user(f"early{n}@acme.example")  # a different created_at than the seeded users
    insert_users(database.obj, org, "seeded", SEEDED)
    total = SEEDED + 3
    for start in range(MIN_DEPTH - PAGE + 1, total + 1, PAGE):
        document = page(scim, start)
        assert ids(document) == walked(org, start, PAGE)
        assert document["totalResults"] == total and document["startIndex"] == start
    end = ((total - MIN_DEPTH) // PAGE) * PAGE + MIN_DEPTH
    assert end in remembered(org)  # the last full page's end, for the next page in order
    assert ids(page(scim, total + 1)) == []


def test_a_page_again_and_a_page_before_are_the_walked_pages(scim, org):
    insert_users(database.obj, org, "seeded", SEEDED)
    deep = MIN_DEPTH + 201
    for start in (deep, deep, deep + 37, deep - 150, MIN_DEPTH + 1, deep + 1):
        assert ids(page(scim, start)) == walked(org, start, PAGE), start
    assert deep - 1 in remembered(org)  # the user before a walked page, for the same page again


def test_a_change_before_a_remembered_position_is_not_missed(scim, org, make_user):
    insert_users(database.obj, org, "seeded", SEEDED)
    deep = MIN_DEPTH + 101
    page(scim, deep)
    first = directory.users_query(org).order_by(*LISTING_ORDER).first()
    changes = [
        lambda: deletion.delete_user(User.get_by_id(walked(org, 5, 1)[0])),
        lambda: make_user("late@acme.example"),
        lambda: User.update(created_at=first.created_at + timedelta(days=1)).where(User.id == first.id).execute(),
        lambda: User.update(pending_deletion_at=first.created_at).where(User.id == walked(org, 7, 1)[0]).execute(),
    ]
    for change in changes:
        before = directory.live_listing(org)[1]
        change()
        assert directory.live_listing(org)[1] > before
        for start in (deep, deep + PAGE):
            assert ids(page(scim, start)) == walked(org, start, PAGE)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["page", "page", "page", "create", "delete", "pend", "reorder"]),
                          st.integers(0, SEEDED + 50)), min_size=1, max_size=15))
def test_generated_pages_and_changes(scim, org, make_user, steps):
    """Hypothesis: any mix of pages at any depth and changes to the users leaves every page
    what a walk from the first user gives."""
    if not User.select().where(User.id.startswith(f"{org.slug}-seeded-")).exists():  # the first example
        insert_users(database.obj, org, "seeded", SEEDED)
    for action, pick in steps:
        live = directory.users_query(org).order_by(*LISTING_ORDER)
        chosen = live.offset(pick % directory.live_user_count(org)).first()
        if action == "page":
            assert ids(page(scim, pick + 1, PAGE - pick % 7)) == walked(org, pick + 1, PAGE - pick % 7)
        elif action == "create":
            make_user(f"gen{next(_names)}@acme.example")
        elif action == "delete":
            deletion.delete_user(chosen)
        elif action == "pend":
            add_objective(org, chosen, "Owned")
            deletion.scim_delete_user(chosen)
        elif action == "reorder":
            User.update(created_at=chosen.created_at - timedelta(seconds=pick)).where(User.id == chosen.id).execute()
