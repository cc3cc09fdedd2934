"""Membership changes cost in proportion to the ids given, not to the team's size: adding one
member to a team of thousands runs the same statements as adding one to a team of two."""
from playhouse.test_utils import assert_query_count, count_queries

from connector import listings, teams
from connector.models import Membership
from tests.connector.group_helpers import bulk_users, team_with

BIG = 3000


def test_add_and_remove_cost_the_same_on_big_and_small_teams(org, make_user):
    big = team_with(org, "Everyone", bulk_users(org, "big", BIG))
    small = team_with(org, "Few", bulk_users(org, "small", 2))
    newcomers = [make_user(f"new{i}@acme.example").id for i in range(2)]
    big, small = teams.get_team(org, big.id), teams.get_team(org, small.id)

    with count_queries() as on_small:
        teams.add_members(small, newcomers)
    with assert_query_count(on_small.count):
        teams.add_members(big, newcomers)
    assert Membership.select().where(Membership.team == big).count() == BIG + 2

    with count_queries() as removed_small:
        teams.remove_members(small, newcomers)
    with assert_query_count(removed_small.count):
        teams.remove_members(big, newcomers)
    assert Membership.select().where(Membership.team == big).count() == BIG


def test_add_members_statement_count_is_fixed(org, make_user):
    """One lookup of the users, one of existing memberships, one insert, one team version bump,
    one audit insert (plus the transaction's own statements, the same every time)."""
    team = teams.get_team(org, teams.create_team(org, "Ops").id)
    ids = [make_user(f"u{i}@acme.example").id for i in range(3)]
    team.organisation  # loaded once, as a caller holding the team would have it
    with count_queries() as first:
        teams.add_members(team, ids[:1])
    with count_queries() as more:
        teams.add_members(team, ids[1:])
    assert first.count == more.count
    assert [q.msg[0].split()[0] for q in more.get_queries() if not q.msg[0].startswith(("BEGIN", "SAVEPOINT", "RELEASE"))] == [
        "SELECT", "SELECT", "INSERT", "UPDATE", "INSERT"]


def test_listings_use_a_fixed_number_of_queries(org, make_user):
    ids = [make_user(f"v{i}@acme.example").id for i in range(5)]
    teams.add_members(teams.create_team(org, "Ally Admins"), ids[:2])
    with count_queries() as few:
        listings.user_rows(org)
        listings.team_rows(org)
    teams.add_members(teams.create_team(org, "Big"), bulk_users(org, "more", 50))
    with count_queries() as many:
        rows = listings.user_rows(org)
        listings.team_rows(org)
    assert few.count == many.count
    assert len(rows) == 55
