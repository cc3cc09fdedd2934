"""user_values.rows_and_teams_for: what rows_for and teams_of_users read, from one statement
(a UNION ALL of the two reads) for every read of users that wants both."""
import pytest
from playhouse.test_utils import count_queries

from connector import directory, memberships, teams, user_values
from connector.organisations import find_organisation


@pytest.fixture
def people(db):
    """Four users: with values and teams, values only, teams only, and neither; the teams'
    names sort differently by case and by byte."""
    org = find_organisation("acme")

    def person(name, values=None):
        return directory.create_user(org, {"user_name": f"{name}@acme.example"}, values=values).id

    both = person("both", {"emails": [{"value": "b2@home.example", "type": "home"},
                                      {"value": "both@acme.example", "type": "work", "primary": True}],
                           "addresses": [{"street_address": "1 Main St", "locality": "Springfield", "type": "work"}],
                           "roles": [{"value": "admin"}]})
    values_only = person("values", {"phoneNumbers": [{"value": "+1 555 0100", "type": "work"}]})
    teams_only, neither = person("teams"), person("neither")
    for name in ("sales", "Ops", "apps", "Zeta"):
        teams.create_team(org, name, members=[both, teams_only])
    return [both, values_only, teams_only, neither]


@pytest.mark.parametrize("kinds", [None, ["emails"], ["roles", "addresses"], ["x509Certificates"]])
def test_reads_what_the_two_reads_give(people, kinds):
    kinds = kinds or list(user_values.VALUE_KINDS)
    values, groups = user_values.rows_and_teams_for(people, kinds)
    assert values == user_values.rows_for(people, kinds)
    assert groups == memberships.teams_of_users(people)


def test_keeps_the_order_of_values_and_teams(people):
    both = people[0]
    values, groups = user_values.rows_and_teams_for(people)
    assert [row["value"] for row in values[both]["emails"]] == ["b2@home.example", "both@acme.example"]
    assert values[both]["addresses"] == [{"street_address": "1 Main St", "locality": "Springfield", "type": "work"}]
    assert [name for _, name in groups[both]] == ["apps", "Ops", "sales", "Zeta"]
    assert people[3] not in values and people[3] not in groups


def test_is_one_statement(people):
    with count_queries() as counted:
        user_values.rows_and_teams_for(people)
    assert counted.count == 1


def test_no_kinds_reads_the_teams_alone(people):
    values, groups = user_values.rows_and_teams_for(people, [])
    assert values == {}
    assert {user: [name for _, name in teams] for user, teams in groups.items()} == {
        people[0]: ["apps", "Ops", "sales", "Zeta"], people[2]: ["apps", "Ops", "sales", "Zeta"]}


def test_more_users_than_one_batch(db):
    """Over BATCH ids, one statement per batch, each user's values and teams whole."""
    org = find_organisation("acme")
    count = user_values.BATCH + 3
    users = directory.create_users(org, [({"user_name": f"u{i}@acme.example"},
                                           {"emails": [{"value": f"u{i}@acme.example", "type": "work"}]})
                                          for i in range(count)])
    ids = [user.id for user in users]
    teams.create_team(org, "All", members=ids)
    with count_queries() as counted:
        values, groups = user_values.rows_and_teams_for(ids)
    assert counted.count == 2
    assert values == user_values.rows_for(ids) and len(values) == count
    assert groups == memberships.teams_of_users(ids) and len(groups) == count
