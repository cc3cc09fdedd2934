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
    assert values == {} and groups == memberships.teams_of_users(people)
