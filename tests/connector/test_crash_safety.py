"""Crash safety (issue 7): SIGKILL a worker, several times, and then the whole server, while
threads create users, PATCH them and send /Bulk requests; restarted over the same database,
nothing is half-written and the server serves.

Every write is one transaction, so after the kills each user has all the values its create
or PATCH wrote, each team created by a /Bulk has all its members, every row has the audit
event written with it (and no event lacks its row), and everything the server acknowledged
before a kill is still there."""
from __future__ import annotations

import http.client
import itertools
import os
import random
import signal
import threading
import time
from collections import Counter

import pytest
from peewee import JOIN, fn

from benchmarks.memory import worker_pids
from connector.db import is_sqlite
from connector.models import USER_STATUSES, AuditEvent, Invitation, Membership, Team, User, UserValue
from tests.live_server import BULK_REQUEST, DOMAIN, GROUP_SCHEMA, HttpApi, live_server, models_on, tag, user_body

pytestmark = pytest.mark.slow
CLIENTS = 6
WORKER_KILLS = 3
LOAD_SECONDS = 0.8  # of load before each kill
BULK_USERS = 3
PATIENCE_SECONDS = 30


class Load:
    """Threads creating, PATCHing and bulk-creating until stopped, keeping what the server
    acknowledged: {user id: version} and {team id: member count}."""

    def __init__(self, api):
        self.api = api
        self.users: dict[str, int] = {}
        self.teams: dict[str, int] = {}
        self.statuses: Counter = Counter()
        self.interrupted = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, args=(n,)) for n in range(CLIENTS)]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(PATIENCE_SECONDS)

    def _client(self, client: int) -> None:
        mine: list[str] = []
        for step in itertools.count():
            if self._stop.is_set():
                return
            try:
                if step % 3 == 0:
                    self._create(mine, f"crash-{client}-{step}-{tag()}")
                elif step % 3 == 1 and mine:
                    self._patch(random.choice(mine), step)
                else:
                    self._bulk(f"{client}-{step}-{tag()}")
            except (OSError, http.client.HTTPException):
                with self._lock:
                    self.interrupted += 1
                time.sleep(0.05)

    def _create(self, mine: list[str], name: str) -> None:
        reply = self.api.post("/Users", whole_user(name))
        self._count(reply.status)
        if reply.status == 201:
            mine.append(reply.document["id"])
            self._acknowledge_user(reply.document["id"], reply.headers["etag"])

    def _patch(self, user_id: str, step: int) -> None:
        reply = self.api.patch(f"/Users/{user_id}", {"op": "replace", "value": {
            "title": f"Title {step}", "active": step % 2 == 0,
            "phoneNumbers": [{"value": f"+1 555 01{step % 100:02d}", "type": "work"}]}})
        self._count(reply.status)
        if reply.status == 200:
            self._acknowledge_user(user_id, reply.headers["etag"])

    def _bulk(self, name: str) -> None:
        users = [{"method": "POST", "path": "/Users", "bulkId": f"u{n}", "data": whole_user(f"bulk-{name}-{n}")}
                 for n in range(BULK_USERS)]
        team = {"method": "POST", "path": "/Groups", "bulkId": "team", "data": {
            "schemas": [GROUP_SCHEMA], "displayName": f"Crash {name}",
            "members": [{"value": f"bulkId:u{n}"} for n in range(BULK_USERS)]}}
        reply = self.api.post("/Bulk", {"schemas": [BULK_REQUEST], "Operations": [*users, team]})
        self._count(reply.status)
        for result in reply.document["Operations"] if reply.status == 200 else ():
            self._count(int(result["status"]))
            if result["status"] == "201":
                resource_id = result["location"].rsplit("/", 1)[1]
                if "/Groups/" in result["location"]:
                    with self._lock:
                        self.teams[resource_id] = BULK_USERS
                else:
                    self._acknowledge_user(resource_id, result["version"])

    def _acknowledge_user(self, user_id: str, etag: str) -> None:
        version = int(etag.split('"')[1])
        with self._lock:
            self.users[user_id] = max(version, self.users.get(user_id, 0))

    def _count(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1


def whole_user(name: str) -> dict:
    """A user with a value in each place a create writes: the row, its names, two value kinds."""
    user_name = f"{name}@{DOMAIN}"
    return user_body(user_name, name={"givenName": "Crash", "familyName": name}, title="Tester",
                     emails=[{"value": user_name, "type": "work", "primary": True}],
                     phoneNumbers=[{"value": "+1 555 0100", "type": "work"}])


def kill_a_worker(live) -> None:
    """SIGKILL one worker and wait until gunicorn has replaced it and the server answers."""
    victim = random.choice(worker_pids(live.server.pid))
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + PATIENCE_SECONDS
    while victim in worker_pids(live.server.pid) or len(worker_pids(live.server.pid)) < 2:
        assert time.monotonic() < deadline, "gunicorn did not replace the killed worker"
        time.sleep(0.05)
    live.server.wait_ready()


def test_sigkill_under_load_leaves_nothing_half_written(db_url, tmp_path):
    with live_server(db_url, tmp_path, workers=2) as live, Load(live.api()) as load:
        for _ in range(WORKER_KILLS):
            time.sleep(LOAD_SECONDS)
            kill_a_worker(live)
        time.sleep(LOAD_SECONDS)
        live.kill()
    assert load.interrupted, "no request was in flight when the server was killed"
    assert not [status for status in load.statuses if status >= 500], load.statuses
    assert load.statuses[201] > 0 and load.statuses[200] > 0, load.statuses

    with live_server(db_url, tmp_path, workers=2, token=live.token) as restarted:
        assert_serves(restarted)
        with models_on(db_url) as db:
            assert_nothing_half_written(db, load)


def assert_serves(live) -> None:
    api = live.api()
    created = api.post("/Users", whole_user(f"after-{tag()}"))
    assert created.status == 201
    assert api.get(f"/Users/{created.document['id']}").status == 200
    assert api.get("/Users?count=5").status == 200
    assert HttpApi(live.port, None, prefix="").get("/readyz").status == 200


def assert_nothing_half_written(db, load: Load) -> None:
    if is_sqlite(db):
        assert db.execute_sql("PRAGMA integrity_check").fetchone() == ("ok",)
    users = {user.id: user for user in User.select()}
    # Everything acknowledged is there, at least at the acknowledged version.
    assert set(load.users) <= set(users)
    assert all(users[user_id].version >= version for user_id, version in load.users.items())
    # Each user is whole: the row's own keys, and the values written with it.
    kinds = Counter(UserValue.select(UserValue.user, UserValue.kind).tuples())
    for user in users.values():
        assert user.status in USER_STATUSES and user.version >= 1
        assert user.user_name_key == user.user_name.lower() and user.email_key == user.email.lower()
        assert user.given_name and user.family_name and user.title
        assert (kinds[(user.id, "emails")], kinds[(user.id, "phoneNumbers")]) == (1, 1), user.user_name
        assert (user.status == "suspended") == (user.suspended_at is not None)
    # Each team from a /Bulk has all its members.
    members = Counter(team_id for (team_id,) in Membership.select(Membership.team).tuples())
    teams = {team.id: team for team in Team.select()}
    assert set(load.teams) <= set(teams)
    assert all(members[team_id] == BULK_USERS for team_id in teams), members
    # Every row has the audit event written in its transaction, and every event its row.
    created = Counter(AuditEvent.select(AuditEvent.target_id).where(AuditEvent.action == "user.created").tuples())
    assert {user_id for (user_id,) in created} == set(users) and set(created.values()) == {1}
    changes = Counter(user_id for (user_id,) in AuditEvent.select(AuditEvent.target_id).where(
        AuditEvent.action.in_(("user.updated", "user.suspended", "user.reactivated"))).tuples())
    assert {user.id: user.version for user in users.values()} == {user_id: 1 + changes[user_id] for user_id in users}
    created_teams = {team_id for (team_id,) in AuditEvent.select(AuditEvent.target_id)
                     .where(AuditEvent.action == "team.created").tuples()}
    assert created_teams == set(teams)
    added = AuditEvent.select().where(AuditEvent.action == "team.member_added").count()
    assert added == sum(members.values())
    assert_no_orphans()


def assert_no_orphans() -> None:
    for model, parent in ((UserValue, UserValue.user), (Membership, Membership.user), (Membership, Membership.team),
                          (Invitation, Invitation.user)):
        target = parent.rel_model
        orphans = (model.select(fn.COUNT(model.id)).join(target, JOIN.LEFT_OUTER, on=(parent == target.id))
                   .where(target.id.is_null()).scalar())
        assert orphans == 0, f"{model.__name__} rows without their {target.__name__}"
