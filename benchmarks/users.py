"""/Users benchmarks (issue 7): what an IdP does to users, on the benchmark organisation, then
lookups and paging at scale on two more organisations, then /Bulk.

- creating 10,000 users with 4 clients, Entra's and Okta's POST bodies in turn (IDP.md 4, 11);
- `userName eq` lookups and get by id of those users; Entra's PATCH of `active` (IDP.md 1:
  `Replace` with the string "False", then "True");
- the same lookups and Entra's lookup by work email, one client, in an organisation of 1,000
  users and in one of 100,000 (seeded straight into the database, benchmarks.seeding) in
  turn, whose p50 are compared;
- paging through the 100,000 users with startIndex and count=100, as Okta does (IDP.md 12),
  two clients taking the pages in order; a figure times pages near the start, the middle and
  the end, one client at a time;
- POST /Bulk with 100 user creates per request.

Group membership adds are benchmarks.groups' scenarios; the initial sync is
benchmarks.initial_sync; every target's line is benchmarks.targets.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from urllib.parse import quote

from benchmarks.client import in_turn, json_request, run_load
from benchmarks.seeding import insert_users, insert_work_emails, server_database, user_name
from benchmarks.servers import HOST, create_token
from benchmarks.statistics import as_in_service
from benchmarks.scenarios import Context, figure, scenario

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
CREATES = 10_000
TOGGLED = 1_000  # PATCH active goes over this many users: all to "False", then all to "True"
SCALES = {"small": 1_000, "large": 100_000}
PAGE = 100
DEPTH_SAMPLES = 20  # pages timed at each depth by the paging figure
SCALE_SAMPLES = 1000  # lookups timed in each organisation by the scale figure
BULK_OPERATIONS = 100
BULK_REQUESTS = 40

CREATE = f"POST /Users (create {CREATES:,} users, Entra and Okta bodies)"
LOOKUP = "GET /Users?filter=userName eq"
GET_BY_ID = "GET /Users/{id}"
WORK_EMAIL_LOOKUP = 'GET /Users?filter=emails[type eq "work"].value eq'  # Entra's second matching attribute
PATCH_ACTIVE = "PATCH /Users active False/True (Entra)"
PAGING = f"GET /Users?startIndex=..&count={PAGE} (all {SCALES['large']:,} users, in order, 2 clients)"
BULK = f"POST /Bulk ({BULK_OPERATIONS} user creates each)"
AT_SCALE = "lookups at scale"
_seeding = threading.Lock()
_counting = threading.Lock()  # /Bulk answers come from 4 client threads


def user_body(i: int, name: str) -> dict:
    """The i-th user as Entra (even i) or Okta (odd i) creates it."""
    given, family = f"Given{i}", f"Family{i}"
    if i % 2 == 0:
        return {"schemas": [USER, ENTERPRISE_USER], "externalId": f"entra-{i}", "userName": name, "active": True,
                "emails": [{"primary": True, "type": "work", "value": name}], "meta": {"resourceType": "User"},
                "name": {"formatted": f"{given} {family}", "familyName": family, "givenName": given},
                "roles": [], "displayName": f"{given} {family}",
                ENTERPRISE_USER: {"department": f"Department {i % 20}", "employeeNumber": str(i)}}
    return {"schemas": [USER], "userName": name, "name": {"givenName": given, "familyName": family},
            "emails": [{"primary": True, "value": name, "type": "work"}], "displayName": f"{given} {family}",
            "locale": "en-US", "externalId": f"00u{i:017d}", "groups": [], "password": "okta-sends-a-random-one",
            "active": True}


def lookup_path(name: str) -> str:
    return "/scim/v2/Users?filter=" + quote(f'userName eq "{name}"')


def _created_name(i: int) -> str:
    return f"user{i}@bench.example"


def _keep_created(ctx: Context, i: int, status: int, body: bytes) -> None:
    if status == 201:
        ctx.state.setdefault("created", {})[i] = json.loads(body)["id"]


@scenario(CREATE, requests=CREATES, time_limit=90, expect=(201,), on_response=_keep_created)
def create_user(ctx: Context, i: int):
    return json_request("POST", "/scim/v2/Users", user_body(i, _created_name(i)), ctx.bearer())


def created(ctx: Context) -> list[tuple[str, str]]:
    """(userName, id) of the users the create scenario made, in order."""
    if "created_list" not in ctx.state:
        made = ctx.state["created"]
        ctx.state["created_list"] = [(_created_name(i), made[i]) for i in sorted(made)]
    return ctx.state["created_list"]


@scenario(LOOKUP)
def lookup_user(ctx: Context, i: int):
    users = created(ctx)
    return json_request("GET", lookup_path(users[i % len(users)][0]), headers=ctx.bearer())


@scenario(GET_BY_ID)
def get_user(ctx: Context, i: int):
    users = created(ctx)
    return json_request("GET", f"/scim/v2/Users/{users[i % len(users)][1]}", headers=ctx.bearer())


def active_patch(active: bool) -> dict:
    """Entra's default dialect (IDP.md 1): a capitalised op and the boolean as a string."""
    return {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": str(active)}]}


@scenario(PATCH_ACTIVE)
def toggle_active(ctx: Context, i: int):
    users = created(ctx)[:TOGGLED]
    body = active_patch(active=(i // len(users)) % 2 == 1)
    return json_request("PATCH", f"/scim/v2/Users/{users[i % len(users)][1]}", body, ctx.bearer())


@dataclass(frozen=True)
class Scale:
    org: object  # the organisation
    users: int
    token: str


def scale(ctx: Context, size: str) -> Scale:
    """The organisations of 1,000 and 100,000 users, made once per server (the first scenario pays, untimed)."""
    with _seeding:
        if "scales" not in ctx.state:
            ctx.state["scales"] = _seed_scales(ctx)
        return ctx.state["scales"][size]


def _seed_scales(ctx: Context) -> dict[str, Scale]:
    from connector.organisations import create_organisation

    orgs = {}
    with server_database(ctx) as database:
        for size, count in SCALES.items():
            orgs[size] = create_organisation(f"Bench {count} users", slug=f"bench-users-{count}",
                                             domains=["bench.example"], skip_invitations=True)
            insert_users(database, orgs[size], "person", count)
        # Planner statistics before the email rows: PostgreSQL would otherwise check each row's
        # foreign key with a sequential scan of a "user" table it believes empty (many minutes).
        database.execute_sql("ANALYZE")
        for org in orgs.values():
            insert_work_emails(org)
        as_in_service(database)
    return {size: Scale(org, SCALES[size], create_token(ctx.config, org.slug)) for size, org in orgs.items()}


def _nth_person(state: Scale, i: int) -> tuple[str, str]:
    """(userName, id) of a person spread over the whole organisation: every lookup a different row."""
    n = (i * 7919) % state.users
    return user_name(state.org, "person", n), f"{state.org.slug}-person-{n}"


def _bearer(state: Scale) -> dict:
    return {"Authorization": f"Bearer {state.token}"}


def _scaled_request(kind: str, state: Scale, i: int):
    user_name_of, id_of = _nth_person(state, i)
    paths = {LOOKUP: lookup_path(user_name_of), GET_BY_ID: f"/scim/v2/Users/{id_of}",
             WORK_EMAIL_LOOKUP: work_email_lookup_path(user_name_of)}  # insert_work_emails: email = userName
    return json_request("GET", paths[kind], headers=_bearer(state))


def work_email_lookup_path(email: str) -> str:
    return "/scim/v2/Users?filter=" + quote(f'emails[type eq "work"].value eq "{email}"')


@figure(f"lookups at {SCALES['large']:,} users vs {SCALES['small']:,} (1 client, {SCALE_SAMPLES:,} each, "
        f"the two organisations in turn)", name=AT_SCALE)
def lookups_at_scale(ctx: Context, rows: dict) -> list[str]:
    # In turn rather than one organisation after the other: on a shared machine a busy minute
    # moved one size's p50 by half and with it the ratio (1.57x once, 1.08x in the run before).
    states = [scale(ctx, size) for size in SCALES]
    found, lines = {}, []
    for kind in (LOOKUP, GET_BY_ID, WORK_EMAIL_LOOKUP):
        small, large = (sized.percentile_ms(50) for sized in in_turn(
            HOST, ctx.port, lambda size, n, k=kind: _scaled_request(k, states[size], n), each=SCALE_SAMPLES,
            time_limit=60, what=f"{kind} at scale"))
        found[kind] = (small, large)
        lines.append(f"{kind}: p50 {large:.2f} ms at {SCALES['large']:,} users, {small:.2f} ms at "
                     f"{SCALES['small']:,}: {large / small:.2f}x")
    ctx.state["scale_p50_ms"] = found
    return lines


def page_path(start_index: int) -> str:
    return f"/scim/v2/Users?startIndex={start_index}&count={PAGE}"


@scenario(PAGING, requests=SCALES["large"] // PAGE, clients=2, time_limit=90)
def page_through(ctx: Context, i: int):
    state = scale(ctx, "large")
    return json_request("GET", page_path(1 + PAGE * i), headers=_bearer(state))


def bulk_body(i: int) -> dict:
    """BULK_OPERATIONS user creates, Entra's and Okta's bodies in turn."""
    first = i * BULK_OPERATIONS
    return {"schemas": [BULK_REQUEST], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": f"u{n}", "data": user_body(n, f"bulk{n}@bench.example")}
        for n in range(first, first + BULK_OPERATIONS)]}


def _count_bulk_created(ctx: Context, i: int, status: int, body: bytes) -> None:
    if status == 200:
        statuses = [str(operation["status"]) for operation in json.loads(body)["Operations"]]
        with _counting:
            counts = ctx.state.setdefault("bulk", {"created": 0, "other": 0})
            counts["created"] += statuses.count("201")
            counts["other"] += len(statuses) - statuses.count("201")


@scenario(BULK, requests=BULK_REQUESTS, time_limit=40, on_response=_count_bulk_created)
def bulk_create(ctx: Context, i: int):
    return json_request("POST", "/scim/v2/Bulk", bulk_body(i), ctx.bearer())


@figure(f"a page of {PAGE} users at depth ({SCALES['large']:,}-user organisation, 1 client, "
        f"{DEPTH_SAMPLES} pages each)")
def paging_depth(ctx: Context, rows: dict) -> list[str]:
    if "scales" not in ctx.state:
        return []  # no scale scenario ran
    state = scale(ctx, "large")
    last = SCALES["large"] - PAGE + 1
    depths = {"start": 1, "middle": last // 2 + 1, "end": last}
    found, first = {}, {}
    for label, start in depths.items():
        # Two full pages in turn: the one at the depth and the next (at the end, the one before).
        step = PAGE if start + PAGE <= last else -PAGE
        result = run_load(HOST, ctx.port, lambda i, s=start, d=step: json_request(
            "GET", page_path(s + d * (i % 2)), headers=_bearer(state)), total=DEPTH_SAMPLES, clients=1, time_limit=60)
        if result.failure_count:
            raise RuntimeError(f"paging at startIndex {start}: {'; '.join(result.failures)}")
        found[label] = result.percentile_ms(50)
        first[label] = result.latencies[0] * 1000
    ctx.state["paging_depth_p50_ms"] = found
    # The first request at a depth may find no page of this worker's ending before it, and walk
    # from the first user (connector.listing_positions): it is printed apart from the p50.
    return [f"{label} (startIndex {depths[label]:,}): p50 {p50:.2f} ms; first request {first[label]:.2f} ms"
            for label, p50 in found.items()]


@figure(f"POST /Bulk: user creates per second ({BULK_OPERATIONS} operations per request)")
def bulk_rate(ctx: Context, rows: dict) -> list[str]:
    row, counts = rows.get(BULK), ctx.state.get("bulk")
    if not row or not counts:
        return []
    single = f"; one POST /Users at a time: {rows[CREATE].result.throughput:.0f}/s" if CREATE in rows else ""
    return [f"{counts['created'] / row.result.elapsed:.0f} operations/s ({counts['created']} created, "
            f"{counts['other']} other statuses, in {row.result.requests} requests, {row.result.elapsed:.1f} s){single}"]
