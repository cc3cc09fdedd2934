"""Scale-out (issue 7): two separate `ally-scim serve` processes on two ports over one
PostgreSQL database behave as one service. Everything shared lives in the database, so a
credential revoked through one is refused by the other at once, what one creates the other
shows, and changes racing through both keep their invariants."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlencode

import pytest

from tests.conftest import empty_database
from tests.live_server import (DOMAIN, ORG, HttpApi, case_variants, concurrently, live_server, no_server_errors, tag,
                               user_body)

# PostgreSQL only (skipped, visibly, without ALLY_TEST_POSTGRES_URL): SQLite is one host's file.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_template", ["postgresql"], indirect=True)]


@pytest.fixture(scope="module")
def servers(database_template, tmp_path_factory):
    """(first, second): two servers of two workers each over one PostgreSQL database."""
    workdir = tmp_path_factory.mktemp("two-servers")
    url = empty_database(database_template, workdir)
    with live_server(url, workdir) as first, live_server(url, workdir, token=first.token) as second:
        yield first, second


def can_list(port: int, token: str) -> int:
    return HttpApi(port, token).get("/Users?count=1").status


def test_a_bearer_token_revoked_with_the_cli_is_refused_by_both_servers_at_once(servers):
    first, second = servers
    made = json.loads(first.cli("token", "create", "--org", ORG, "--name", f"Okta {tag()}", "--json"))
    assert [can_list(server.port, made["token"]) for server in servers] == [200, 200]

    second.cli("token", "revoke", str(made["id"]))

    assert [can_list(server.port, made["token"]) for server in servers] == [401, 401]
    assert [can_list(server.port, first.token) for server in servers] == [200, 200]


def test_an_access_token_revoked_over_oauth_on_one_server_is_refused_by_the_other(servers):
    first, second = servers
    client = json.loads(first.cli("client", "create", "--org", ORG, "--grant", "client_credentials",
                                  "--name", f"Entra {tag()}", "--json"))
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    form = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
    oauth = HttpApi(first.port, None, prefix="")
    issued = oauth.post("/oauth/token", urlencode({"grant_type": "client_credentials"}), headers=form)
    assert issued.status == 200, issued
    access_token = issued.document["access_token"]
    assert can_list(second.port, access_token) == 200

    revoked = HttpApi(second.port, None, prefix="").post("/oauth/revoke", urlencode({"token": access_token}),
                                                         headers=form)

    assert revoked.status == 200
    assert [can_list(server.port, access_token) for server in servers] == [401, 401]


def test_a_user_created_through_one_is_found_through_the_other(servers):
    first, second = servers
    user_name = f"Seen.{tag()}@{DOMAIN}"
    created = first.api().create_user(user_name)

    by_id = second.api().get(f"/Users/{created['id']}")
    assert by_id.status == 200 and by_id.document["userName"] == user_name
    assert by_id.headers["etag"] == created["meta"]["version"]
    found = second.api().get("/Users?filter=" + quote(f'userName eq "{user_name.lower()}"'))
    assert [user["id"] for user in found.document["Resources"]] == [created["id"]]


def test_one_username_created_through_both_at_once_gives_one_user(servers):
    names = case_variants(f"both{tag()}@{DOMAIN}", 10)
    replies = concurrently(*[lambda n=n, name=name: servers[n % 2].api().post("/Users", user_body(name))
                             for n, name in enumerate(names)])

    no_server_errors(replies)
    assert sorted(reply.status for reply in replies) == [201] + [409] * 9


def test_patches_with_one_if_match_through_both_servers_have_one_winner(servers):
    first, second = servers
    for round_ in range(4):
        user = first.api().create_user(f"cas{round_}-{tag()}@{DOMAIN}")
        path, version = f"/Users/{user['id']}", user["meta"]["version"]
        replies = concurrently(*[lambda server=server, n=n: server.api().patch(
            path, {"op": "replace", "path": "title", "value": f"Title {n}"}, headers={"If-Match": version})
            for n, server in enumerate(servers)])

        assert sorted(reply.status for reply in replies) == [200, 412], replies
        [winner] = [reply for reply in replies if reply.status == 200]
        for server in servers:
            now = server.api().get(path)
            assert (now.document["title"], now.headers["etag"]) == (winner.document["title"], winner.headers["etag"])


def test_members_added_and_removed_through_both_servers_end_as_the_union(servers):
    first, second = servers
    users = [first.api().create_user(f"both-member{n}-{tag()}@{DOMAIN}")["id"] for n in range(12)]
    leaving = users[8:]
    group = first.api().create_group(f"Both {tag()}", members=leaving)["id"]

    def client(server, mine: list[str], removes: list[str]):
        api = server.api()
        replies = [api.patch(f"/Groups/{group}", {"op": "add", "path": "members", "value": [{"value": user_id}]})
                   for user_id in mine]
        return replies + [api.patch(f"/Groups/{group}", {"op": "remove", "path": f'members[value eq "{user_id}"]'})
                          for user_id in removes]

    done = concurrently(lambda: client(first, users[0:4], leaving[:2]), lambda: client(second, users[4:8], leaving[2:]))
    replies = [reply for replies in done for reply in replies]

    no_server_errors(replies)
    assert {reply.status for reply in replies} == {200}
    for server in servers:
        members = server.api().get(f"/Groups/{group}").document.get("members", [])
        assert sorted(member["value"] for member in members) == sorted(users[:8])
