"""Cost guards (issue 5): a membership PATCH runs the same statements on a 10-member and a
5,000-member group and never reads the group's members; a list with
excludedAttributes=members never touches the membership table."""
import pytest
from playhouse.test_utils import assert_query_count, count_queries

from connector.models import Membership
from tests.connector.group_helpers import api, bulk_users, team_with  # noqa: F401 - fixture


@pytest.fixture
def config_data(config_data):
    """Without the SCIM rate limiter, whose write of its counts (about once a second, not per
    request: connector.scim_rate_limit) is no part of what an operation costs."""
    return {**config_data, "rate_limit": {"enabled": False}}


SMALL, BIG = 10, 5000


def _statements(counter) -> list[str]:
    return [query.msg[0] for query in counter.get_queries()]


def _member_reads(statements) -> list[str]:
    """Statements that read the membership table without naming the users concerned."""
    return [sql for sql in statements if sql.startswith("SELECT") and '"membership"' in sql
            and '"user_id" IN' not in sql]


@pytest.fixture
def groups(org, make_user):
    small = team_with(org, "Small", bulk_users(org, "small", SMALL))
    big = team_with(org, "Big", bulk_users(org, "big", BIG))
    newcomers = [make_user(f"new{i}@acme.example").id for i in range(2)]
    return small.id, big.id, newcomers


@pytest.mark.parametrize("operation", [
    lambda user: {"op": "add", "path": "members", "value": [{"value": user}]},
    lambda user: {"op": "remove", "path": f'members[value eq "{user}"]'},
    lambda user: {"op": "Remove", "path": "members", "value": [{"value": user}]},
], ids=["add", "remove-filter", "entra-remove-value-array"])
def test_membership_patch_costs_the_same_on_any_group_size(api, groups, operation):
    small, big, (newcomer, _) = groups
    if operation(newcomer)["op"] != "add":
        for group in (small, big):
            api.ops(f"/Groups/{group}", {"op": "add", "path": "members", "value": [{"value": newcomer}]})
    with count_queries() as on_small:
        assert api.ops(f"/Groups/{small}", operation(newcomer)).status_code == 200
    with assert_query_count(on_small.count) as on_big:
        assert api.ops(f"/Groups/{big}", operation(newcomer)).status_code == 200
    assert _member_reads(_statements(on_big)) == []


def test_okta_rename_alongside_a_membership_push_reads_no_members(api, groups):
    small, big, (first, second) = groups
    counts = []
    for group in (small, big):
        with count_queries() as counter:
            response = api.ops(f"/Groups/{group}", {"op": "replace", "value": {"id": group, "displayName": "Renamed " + group}},
                               {"op": "remove", "path": f'members[value eq "{first}"]'},
                               {"op": "add", "path": "members", "value": [{"value": second}]})
        assert response.status_code == 200 and "members" not in response.get_json()
        assert _member_reads(_statements(counter)) == []
        counts.append(counter.count)
    assert counts[0] == counts[1]
    assert Membership.select().where(Membership.team == big).count() == BIG + 1


def test_list_without_members_never_reads_them(api, org, make_user):
    """Okta lists groups with excludedAttributes=members; a page costs the same statements
    whether the groups are empty or hold 2,000 members, and reads no membership row."""
    for i in range(3):
        team_with(org, f"Empty {i}", [])
    with count_queries() as empty:
        page = api.get("/Groups", query_string={"excludedAttributes": "members", "count": 100}).get_json()
    assert page["totalResults"] == 3
    crowd = bulk_users(org, "crowd", 2000)
    for i in range(3):
        team_with(org, f"Full {i}", crowd)
    with assert_query_count(empty.count) as full:
        page = api.get("/Groups", query_string={"excludedAttributes": "members", "count": 100}).get_json()
    assert page["totalResults"] == 6 and all("members" not in group for group in page["Resources"])
    assert not [sql for sql in _statements(full) if '"membership"' in sql]


def test_a_page_with_members_reads_them_in_one_query(api, org):
    crowd = bulk_users(org, "crowd", 50)
    for i in range(3):
        team_with(org, f"Team {i}", crowd[i * 10:])
    with count_queries() as counter:
        page = api.get("/Groups", query_string={"count": 100}).get_json()
    assert [len(group["members"]) for group in page["Resources"]] == [50, 40, 30]
    assert len([sql for sql in _statements(counter) if '"membership"' in sql]) == 1
