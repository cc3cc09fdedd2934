"""Real `ally-scim serve` processes for end-to-end tests (started by benchmarks.servers, as the
benchmarks start them), a small HTTP client for their API, and helpers for racing requests.

    with live_server(db_url, tmp_path, workers=2) as live:    # db_url: tests/conftest.py
        reply = live.api().post("/Users", {...})
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.servers import (BENCH_ORG, HOST, ServerProcess, ally_scim, connector_server, create_token, free_port,
                                write_config)
from connector.db import open_database
from connector.models import BaseModel
from tests.helpers import SCIM_JSON, ScimVerbs

ORG = BENCH_ORG["slug"]
DOMAIN = BENCH_ORG["domains"][0]
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
REQUEST_SECONDS = 60


@dataclass
class Reply:
    status: int
    document: dict | None
    headers: dict = field(default_factory=dict)


class HttpApi(ScimVerbs):
    """Requests to one server, each on its own connection (so concurrent callers may reach
    different workers), with the bearer token given."""

    def __init__(self, port: int, token: str | None, prefix: str = "/scim/v2"):
        self.port, self.token, self.prefix = port, token, prefix

    def request(self, method: str, path: str, body=None, headers: dict | None = None) -> Reply:
        sent = {"Accept": SCIM_JSON, "Connection": "close", **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            sent.setdefault("Content-Type", SCIM_JSON)
        connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_SECONDS)
        try:
            connection.request(method, self.prefix + path, body=data, headers=sent)
            response = connection.getresponse()
            raw = response.read()
            document = json.loads(raw) if raw and "json" in (response.getheader("Content-Type") or "") else None
            return Reply(response.status, document, {k.lower(): v for k, v in response.getheaders()})
        finally:
            connection.close()

    def patch(self, path, *operations, **kwargs):
        return self.request("PATCH", path, {"schemas": [PATCH_OP], "Operations": list(operations)}, **kwargs)

    def create_user(self, user_name: str, **attributes) -> dict:
        reply = self.post("/Users", user_body(user_name, **attributes))
        assert reply.status == 201, reply
        return reply.document

    def create_group(self, name: str, members=()) -> dict:
        reply = self.post("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": name,
                                      "members": [{"value": member} for member in members]})
        assert reply.status == 201, reply
        return reply.document


def user_body(user_name: str, **attributes) -> dict:
    return {"schemas": [USER_SCHEMA], "userName": user_name, **attributes}


@dataclass
class LiveServer:
    """A running `ally-scim serve`, its config file and a bearer token of the organisation."""

    server: ServerProcess
    config: Path
    token: str
    database_url: str

    @property
    def port(self) -> int:
        return self.server.port

    def api(self, token: str | None = None) -> HttpApi:
        return HttpApi(self.port, token or self.token)

    def cli(self, *args: str) -> str:
        return ally_scim(self.config, *args)

    def kill(self) -> None:
        """SIGKILL the master and its workers at once (they share its process group)."""
        os.killpg(self.server.pid, signal.SIGKILL)
        self.server.process.wait(REQUEST_SECONDS)


def prepare(config: Path) -> str:
    """Migrate the config's database and create its organisation; a new token of it."""
    ally_scim(config, "init")
    return create_token(config, ORG)


@contextmanager
def live_server(database_url: str, workdir: Path, *, workers: int = 2, token: str | None = None):
    """`ally-scim serve` on a free port over database_url, ready (/readyz 200); stopped after.
    Without a token the database is prepared first and a new token made."""
    port = free_port()
    config = write_config(workdir, database_url, port)
    if token is None:
        token = prepare(config)
    server = connector_server(config, port, workdir, workers=workers)
    try:
        server.wait_ready()
        yield LiveServer(server, config, token, database_url)
    finally:
        server.stop()


@contextmanager
def models_on(database_url: str):
    """The connector's models bound to database_url inside the block: the test reading the
    rows the servers wrote."""
    db = open_database(database_url)
    try:
        with db.bind_ctx(BaseModel.__subclasses__()):
            yield db
    finally:
        if not db.is_closed():
            db.close()
        db.close_all()


def concurrently(*calls):
    """Run the calls on their own threads, released together; their results in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def tag() -> str:
    return uuid.uuid4().hex[:10]


def case_variants(word: str, count: int) -> list[str]:
    """`count` spellings of word that differ only in the case of its letters."""
    letters = [i for i, char in enumerate(word) if char.isalpha()]
    assert 2 ** len(letters) >= count
    return ["".join(char.upper() if i in letters and (n >> letters.index(i)) & 1 else char
                    for i, char in enumerate(word)) for n in range(count)]


def no_server_errors(replies) -> None:
    failed = [(reply.status, reply.headers.get("x-request-id")) for reply in replies if reply.status >= 500]
    assert not failed, f"server errors (status, request id; see the server log): {failed}"
