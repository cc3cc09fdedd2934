"""Concurrent IdP requests against a real server (issue 7): PostgreSQL behind two gunicorn
workers, SQLite behind one (each with its threads). Races keep every invariant: one user per
userName, memberships as a serial run would leave them, one winner per If-Match version, and
a user's final state agreeing with its row and its audit trail. No race surfaces as a 5xx."""
from __future__ import annotations

import pytest

from connector.models import AuditEvent, Membership, User
from tests.conftest import empty_database
from tests.live_server import (DOMAIN, GROUP_SCHEMA, case_variants, concurrently, live_server, models_on,
                               no_server_errors, tag, user_body)

pytestmark = pytest.mark.slow
CLIENTS = 20


@pytest.fixture(scope="module")
def live(database_template, tmp_path_factory):
    """One server per backend for the module; each test works on users and groups of its own."""
    workdir = tmp_path_factory.mktemp(database_template[0])
    workers = 2 if database_template[0] == "postgresql" else 1
    with live_server(empty_database(database_template, workdir), workdir, workers=workers) as server:
        yield server


def test_one_user_per_username_whatever_the_case(live):
    api = live.api()
    names = case_variants(f"racer{tag()}@{DOMAIN}", CLIENTS)
    replies = concurrently(*[lambda name=name: api.post("/Users", user_body(name)) for name in names])

    assert_one_created(replies)
    with models_on(live.database_url):
        assert User.select().where(User.user_name_key == names[0].lower()).count() == 1


@pytest.mark.parametrize("taken", ["email", "displayName"])
def test_one_user_per_email_and_one_group_per_name_whatever_the_case(live, taken):
    api, clients = live.api(), CLIENTS // 2
    if taken == "email":
        emails = case_variants(f"mailbox{tag()}@{DOMAIN}", clients)
        bodies = [("/Users", user_body(f"u{n}-{tag()}", emails=[{"value": email, "type": "work", "primary": True}]))
                  for n, email in enumerate(emails)]
    else:
        bodies = [("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": name})
                  for name in case_variants(f"team{tag()}", clients)]
    assert_one_created(concurrently(*[lambda path=path, body=body: api.post(path, body) for path, body in bodies]))


def assert_one_created(replies) -> None:
    no_server_errors(replies)
    assert sorted(reply.status for reply in replies) == [201] + [409] * (len(replies) - 1)
    assert {reply.document["scimType"] for reply in replies if reply.status == 409} == {"uniqueness"}


def membership_script(users: list[str], initial: list[str], clients: int) -> list[list[dict]]:
    """Each client's PATCH operations: its own users added, removed and added again, one of the
    initial members removed, and a user every client adds. Clients touch different users (but
    the shared one, whose adds commute), so every interleaving ends as the serial run does."""
    shared = users[-1]
    scripts = []
    for client in range(clients):
        first, second = users[2 * client], users[2 * client + 1]
        scripts.append([
            {"op": "add", "path": "members", "value": [{"value": first}, {"value": second}, {"value": shared}]},
            {"op": "remove", "path": f'members[value eq "{initial[client]}"]'},
            {"op": "remove", "path": f'members[value eq "{second}"]'},
            {"op": "add", "path": "members", "value": [{"value": first}]},
            {"op": "add", "path": "members", "value": [{"value": second}, {"value": shared}]},
            {"op": "remove", "path": f'members[value eq "{first}"]'},
        ])
    return scripts


def serial_members(initial: list[str], scripts: list[list[dict]]) -> set[str]:
    members = set(initial)
    for operation in (operation for script in scripts for operation in script):
        if operation["op"] == "add":
            members |= {member["value"] for member in operation["value"]}
        else:
            members.discard(operation["path"].split('"')[1])
    return members


def test_concurrent_membership_changes_end_as_the_serial_run(live):
    api, clients = live.api(), 4
    users = [api.create_user(f"member{n}-{tag()}@{DOMAIN}")["id"] for n in range(2 * clients + 1 + clients)]
    users, initial = users[:2 * clients + 1], users[2 * clients + 1:]
    group = api.create_group(f"Race {tag()}", members=initial)["id"]
    scripts = membership_script(users, initial, clients)

    def client(script):
        return [api.patch(f"/Groups/{group}", operation) for operation in script]

    replies = [reply for done in concurrently(*[lambda s=s: client(s) for s in scripts]) for reply in done]

    no_server_errors(replies)
    assert {reply.status for reply in replies} == {200}
    shown = api.get(f"/Groups/{group}").document
    expected = serial_members(initial, scripts)
    assert {member["value"] for member in shown.get("members", [])} == expected
    with models_on(live.database_url):
        rows = [user_id for (user_id,) in Membership.select(Membership.user).where(Membership.team == group).tuples()]
    assert sorted(rows) == sorted(expected)


@pytest.mark.parametrize("endpoint", ["Users", "Groups"])
def test_two_puts_with_the_same_if_match_one_wins(live, endpoint):
    api = live.api()
    for round_ in range(3):
        if endpoint == "Users":
            created = api.create_user(f"put{round_}-{tag()}@{DOMAIN}")
            bodies = [{**user_body(created["userName"]), "title": f"Title {n}"} for n in range(2)]
        else:
            created = api.create_group(f"Put {tag()}")
            bodies = [{"schemas": created["schemas"], "displayName": f"Put {tag()}"} for _ in range(2)]
        path, version = f"/{endpoint}/{created['id']}", created["meta"]["version"]
        replies = concurrently(*[lambda body=body: api.put(path, body, headers={"If-Match": version})
                                 for body in bodies])

        assert sorted(reply.status for reply in replies) == [200, 412], replies
        [winner] = [reply for reply in replies if reply.status == 200]
        now = api.get(path)
        assert now.headers["etag"] == winner.headers["etag"] != version
        field = "title" if endpoint == "Users" else "displayName"
        assert now.document[field] == winner.document[field]


def test_concurrent_suspend_reactivate_and_delete_leave_row_get_and_audit_agreeing(live):
    api = live.api()
    for round_ in range(3):
        user = api.create_user(f"flip{round_}-{tag()}@{DOMAIN}")
        path = f"/Users/{user['id']}"

        def flip(client: int):
            replies = []
            for step in range(4):
                active = (client + step) % 2 == 1
                request_id = f"flip-{client}-{step}-{tag()}"
                if client == 0 and step == 2:
                    replies.append((request_id, api.delete(path, headers={"X-Request-Id": request_id})))
                else:
                    replies.append((request_id, api.patch(path, {"op": "replace", "path": "active", "value": active},
                                                          headers={"X-Request-Id": request_id})))
            return replies

        replies = [reply for done in concurrently(*[lambda c=c: flip(c) for c in range(3)]) for reply in done]

        no_server_errors([reply for _, reply in replies])
        assert {reply.status for _, reply in replies} <= {200, 204, 404}
        succeeded = {request_id for request_id, reply in replies if reply.status in (200, 204)}
        final = api.get(path)
        with models_on(live.database_url):
            row = User.get_or_none(User.id == user["id"])
            events = list(AuditEvent.select().where(
                (AuditEvent.target_id == user["id"]) & (AuditEvent.action != "user.created"))
                .order_by(AuditEvent.at, AuditEvent.id))
        assert_audit_trail_agrees(events, succeeded, final, row)


def assert_audit_trail_agrees(events, succeeded: set[str], final, row) -> None:
    """Each event comes from a different successful request, each status change starts where
    the one before ended, and the last one is the state the row and GET show."""
    assert events, "a successful change leaves an event"
    request_ids = [event.request_id for event in events]
    assert len(set(request_ids)) == len(request_ids) and set(request_ids) <= succeeded
    status = "active"
    for event in events:
        if event.action == "user.deleted":
            assert event is events[-1]
            break
        assert event.action in ("user.suspended", "user.reactivated"), event.action
        assert event.changes["status"][0] == status
        status = event.changes["status"][1]
    if events[-1].action == "user.deleted":
        assert final.status == 404 and row is None
    else:
        assert final.status == 200 and row is not None
        assert row.status == status
        assert final.document["active"] is (status != "suspended")
        assert final.headers["etag"] == f'W/"{row.version}"'


ENTERPRISE_MANAGER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
ALLY_PARENT = "urn:ietf:params:scim:schemas:extension:ally:2.0:Group:parent"
ROUNDS = 6


def test_a_user_deleted_while_being_added_to_a_group_is_refused_or_leaves_no_membership(live):
    """PostgreSQL checks the new membership's user while its DELETE may be committing: the add
    either happened first (and the DELETE took the membership with it) or is refused (400)."""
    api = live.api()
    group = api.create_group(f"Leaving {tag()}")["id"]
    for round_ in range(ROUNDS):
        user = api.create_user(f"leaver{round_}-{tag()}@{DOMAIN}")["id"]
        deleted, added = concurrently(
            lambda: api.delete(f"/Users/{user}"),
            lambda: api.patch(f"/Groups/{group}", {"op": "add", "path": "members", "value": [{"value": user}]}))

        assert deleted.status == 204
        assert added.status in (200, 400), added
        assert added.status == 200 or added.document["scimType"] == "invalidValue"
        assert api.get(f"/Groups/{group}").document.get("members", []) == []


# A link from one resource to another (a foreign key): (endpoint, attribute path of its id).
LINKS = {"manager": ("Users", f"{ENTERPRISE_MANAGER}.value"), "parent": ("Groups", f"{ALLY_PARENT}.value")}


def new_resource(api, endpoint: str) -> str:
    if endpoint == "Users":
        return api.create_user(f"linked-{tag()}@{DOMAIN}")["id"]
    return api.create_group(f"Linked {tag()}")["id"]


def link(api, endpoint: str, path: str, source: str, target: str):
    return api.patch(f"/{endpoint}/{source}", {"op": "replace", "path": path, "value": target})


@pytest.mark.parametrize("kind", LINKS)
def test_a_link_target_deleted_while_being_linked_to_is_refused_or_cleared(live, kind):
    """A manager or parent group deleted while a PATCH makes it one: the PATCH came first (and
    the DELETE cleared the link) or is refused (400); never a foreign key error (500)."""
    api, (endpoint, path) = live.api(), LINKS[kind]
    for _ in range(ROUNDS):
        target, source = new_resource(api, endpoint), new_resource(api, endpoint)
        deleted, linked = concurrently(lambda: api.delete(f"/{endpoint}/{target}"),
                                       lambda: link(api, endpoint, path, source, target))

        assert deleted.status == 204
        assert linked.status in (200, 400), linked
        assert path.rsplit(":", 1)[0] not in api.get(f"/{endpoint}/{source}").document


@pytest.mark.parametrize("kind", LINKS)
def test_two_resources_linked_to_each_other_at_once_one_wins_one_is_a_cycle(live, kind):
    """Each PATCH locks its own row and then needs the other's: on PostgreSQL a deadlock,
    which the server retries; the retried request then sees the cycle (400)."""
    api, (endpoint, path) = live.api(), LINKS[kind]
    for _ in range(ROUNDS):
        first, second = new_resource(api, endpoint), new_resource(api, endpoint)
        replies = concurrently(lambda: link(api, endpoint, path, first, second),
                               lambda: link(api, endpoint, path, second, first))

        assert sorted(reply.status for reply in replies) == [200, 400], replies
