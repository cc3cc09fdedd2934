"""An IdP's initial sync into a fresh organisation, timed from the first request to the last
answer (issue 7: 10,000 users and 100 groups of 100 members in under 60 s).

Four clients, each on its own connection, do what Entra does (IDP.md 4): for each user a
`GET /Users?filter=userName eq "…"` (no match), then `POST /Users`; once every user is there,
for each group a `POST /Groups`, then `PATCH` adds of its members, 25 at a time.
"""
from __future__ import annotations

import json
import time

from benchmarks.client import Conversation, LoadResult, json_request, run_conversations
from benchmarks.seeding import server_database
from benchmarks.servers import HOST, create_token
from benchmarks.scenarios import Context, figure
from benchmarks import users as user_scenarios  # (attributes read when the sync runs: import order)

USERS = 10_000
GROUPS, MEMBERS, BATCH = 100, 100, 25
CLIENTS = 4
ORG = "bench-sync"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
TIME_LIMIT = 300  # seconds for each phase; the target is 60 for both


def sync(ctx: Context, users: int = USERS, groups: int = GROUPS, members: int = MEMBERS) -> dict:
    """Run the sync; its phases' LoadResults and the total wall time (seconds)."""
    headers = {"Authorization": f"Bearer {_fresh_organisation(ctx)}"}
    ids: dict[int, str] = {}

    def user(i: int) -> Conversation:
        name = f"sync{i}@bench.example"
        yield json_request("GET", user_scenarios.lookup_path(name), headers=headers)
        status, body = yield json_request("POST", "/scim/v2/Users", user_scenarios.user_body(i, name), headers)
        if status == 201:
            ids[i] = json.loads(body)["id"]

    def group(g: int) -> Conversation:
        body = {"schemas": [GROUP], "displayName": f"Sync group {g}", "externalId": f"sync-group-{g}"}
        status, answer = yield json_request("POST", "/scim/v2/Groups", body, headers)
        path = f"/scim/v2/Groups/{json.loads(answer)['id']}"
        chosen = [ids[n] for n in range(g * members, (g + 1) * members) if n in ids]
        for first in range(0, len(chosen), BATCH):
            yield json_request("PATCH", path, _add_members(chosen[first:first + BATCH]), headers)

    started = time.perf_counter()
    user_phase = run_conversations(HOST, ctx.port, user, total=users, clients=CLIENTS, time_limit=TIME_LIMIT,
                                   expect=(200, 201))
    group_phase = run_conversations(HOST, ctx.port, group, total=groups, clients=CLIENTS, time_limit=TIME_LIMIT,
                                    expect=(200, 201))
    return {"users": user_phase, "groups": group_phase, "seconds": time.perf_counter() - started,
            "created": len(ids)}


def _add_members(user_ids: list[str]) -> dict:
    """Entra's default-dialect membership add (IDP.md 1)."""
    return {"schemas": [PATCH_OP],
            "Operations": [{"op": "Add", "path": "members", "value": [{"value": user_id} for user_id in user_ids]}]}


def _fresh_organisation(ctx: Context) -> str:
    """A new organisation on the benchmark's auto-join domain; a token for it."""
    from connector.organisations import create_organisation

    with server_database(ctx):
        create_organisation("Bench Sync", slug=ORG, domains=["bench.example"], skip_invitations=True)
    return create_token(ctx.config, ORG)


@figure(f"initial sync: {USERS:,} users (lookup, then create) and {GROUPS} groups of {MEMBERS} members "
        f"(create, then adds of {BATCH}), {CLIENTS} clients, fresh organisation", name="initial sync")
def initial_sync(ctx: Context, rows: dict) -> list[str]:
    done = sync(ctx)
    ctx.state["initial_sync_seconds"] = done["seconds"]
    lines = [f"{done['seconds']:.1f} s in all; " + _phase("users", done["users"]) + "; " + _phase("groups", done["groups"])]
    failures = done["users"].failures + done["groups"].failures
    if failures or done["created"] != USERS:
        raise RuntimeError(f"{lines[0]}; {done['created']} of {USERS} users created; unexpected: {'; '.join(failures)}")
    return lines


def _phase(label: str, result: LoadResult) -> str:
    return (f"{label}: {result.requests} requests in {result.elapsed:.1f} s ({result.throughput:.0f} req/s, "
            f"p50 {result.percentile_ms(50):.1f} ms, p95 {result.percentile_ms(95):.1f} ms)")
