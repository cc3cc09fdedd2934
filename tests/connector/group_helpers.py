"""Helpers for the /Groups tests: a SCIM client carrying a bearer token of the demo
organisation, users made through the directory, and big teams seeded in bulk."""
from __future__ import annotations

import pytest

from connector import teams
from connector.clock import utcnow
from connector.models import Membership, Team, User
from tests.helpers import Api
from tests.oauth.helpers import bearer

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ALLY_GROUP = "urn:ietf:params:scim:schemas:extension:ally:2.0:Group"


class ScimApi(Api):
    """tests.helpers.Api with an organisation's bearer token on every request, and reads of
    a group."""

    def __init__(self, client, token: str):
        super().__init__(client, headers=bearer(token))
        self.token = token

    def group(self, group_id: str, **query):
        response = self.get(f"/Groups/{group_id}", query_string=query)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def member_ids(self, group_id: str) -> set[str]:
        return {member["value"] for member in self.group(group_id).get("members", [])}


@pytest.fixture
def api(client, idp_token):
    """A SCIM client of the demo organisation (acme), as its IdP would call."""
    return ScimApi(client, idp_token)


def bulk_users(org, prefix: str, count: int) -> list[str]:
    """`count` active users inserted in batches (seeding big teams quickly); their ids."""
    rows = [{"id": f"{prefix}-{i:05d}", "organisation": org.id, "user_name": f"{prefix}{i}@acme.example",
             "user_name_key": f"{prefix}{i}@acme.example", "status": "active"} for i in range(count)]
    for start in range(0, count, 500):
        User.insert_many(rows[start:start + 500]).execute()
    return [row["id"] for row in rows]


def team_with(org, name: str, user_ids: list[str]) -> Team:
    """A team holding these users, its memberships inserted in batches."""
    team = teams.create_team(org, name, managed_by_idp=True)
    for start in range(0, len(user_ids), 500):
        Membership.insert_many([{"team": team.id, "user": uid, "created_at": utcnow()}
                                for uid in user_ids[start:start + 500]]).execute()
    return team
