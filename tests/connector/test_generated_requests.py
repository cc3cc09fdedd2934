"""Generated requests (hypothesis) against every endpoint of the real app, on each backend.

Bodies, filters, PATCH operations, paths, query strings and headers come from tests/strategies.py,
from valid to garbage. Every answer must be below 500; every error under /scim/v2 must be a SCIM
error document whose status matches the HTTP status; and a PUT, PATCH or DELETE that fails (4xx)
must leave the resource exactly as it was (the GET body, meta.version included). After every
generated request to /scim/v2 the organisation's kept count of users (migration 0009) is what
counting them gives.

Each test counts the requests it sends and asserts its share (REQUESTS_PER_BACKEND sums them:
at least 5,000 per backend and run). Examples are new on every run; a failure prints the
example and a @reproduce_failure blob to put above the inner `run`, .hypothesis/ replays it first
on the next run, and `--hypothesis-seed=N` repeats a whole run.
"""
from __future__ import annotations

import collections
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector import directory
from connector.organisations import find_organisation
from tests import strategies as gen
from tests.conftest import BACKENDS
from tests.oauth.helpers import acme, bearer_token, oauth_client

SCIM_JSON = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

# generated requests per test and backend (one per example); reads that check a resource did not
# change come on top and are not counted
PLAN = {
    "scim_endpoints": 900,
    "filters": 600,
    "patch": 450,
    "put": 200,
    "bulk": 250,
    "other_endpoints": 600,
}
GENERATED_PER_BACKEND = sum(PLAN.values())
assert GENERATED_PER_BACKEND * len(BACKENDS) >= 5000


def plan(name: str):
    return settings(max_examples=PLAN[name], deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


class Wire:
    """Sends requests through the test client, counts the generated ones, and checks every answer."""

    def __init__(self, client, token: str):
        self.client = client
        self.auth = {"Authorization": f"Bearer {token}"}
        self.sent = 0  # generated requests; reads() are not counted
        self.statuses = collections.Counter()  # (method, status): shown with -s, to see what the examples reach

    def send(self, method: str, path: str, *, body: bytes | None = None, query: str = "", headers=None):
        headers = {**self.auth, **(headers or {})}
        if body is not None:
            headers.setdefault("Content-Type", SCIM_JSON)
        response = self.client.open(path, method=method, data=body, query_string=query or None, headers=headers)
        check(method, path, response)
        self.statuses[method, response.status_code] += 1
        return response

    def generated(self, method: str, path: str, **kwargs):
        self.sent += 1
        return self.send(method, path, **kwargs)

    def read(self, path: str):
        """The resource's GET answer (status, body, ETag): what must not change on a failed write."""
        response = self.send("GET", path)
        return response.status_code, response.get_data(), response.headers.get("ETag")

    def expect(self, examples_of: str):
        assert self.sent >= PLAN[examples_of], f"{examples_of}: only {self.sent} generated requests sent"
        print(f"\n{examples_of}: {self.sent} generated requests;", dict(sorted(self.statuses.items())))


def assert_live_count_kept() -> None:
    org = find_organisation("acme")
    assert directory.live_user_count(org) == directory.users_query(org).count(), "live_user_count drifted"


def check(method: str, path: str, response) -> None:
    where = f"{method} {path} -> {response.status_code}: {response.get_data()[:500]!r}"
    assert response.status_code < 500, where
    if path.startswith("/scim/v2") and response.status_code >= 400 and method != "HEAD":
        assert response.mimetype == SCIM_JSON, where
        document = json.loads(response.get_data())
        assert document["schemas"] == [ERROR_SCHEMA], where
        assert document["status"] == str(response.status_code), where
    if method == "POST" and path.rstrip("/").endswith("/Bulk") and response.status_code == 200:
        # each operation's own status too (a /Bulk answer is 200 whatever its operations met)
        statuses = [operation.get("status") for operation in json.loads(response.get_data())["Operations"]]
        assert all(not str(status).startswith("5") for status in statuses), where


@pytest.fixture
def wire(client, idp_token):
    return Wire(client, idp_token)


@pytest.fixture
def resources(scim):
    """A user in a group, as an IdP would have made them: {"Users": id, "Groups": id}, and
    two more users ("others") for memberships and managers."""
    others = [scim.create_user(f"colleague{n}@acme.example")["id"] for n in (1, 2)]
    user = scim.create_user("fuzz.target@acme.example", name={"givenName": "Fuzz", "familyName": "Target"},
                            emails=[{"value": "fuzz.target@acme.example", "type": "work", "primary": True}],
                            externalId="ext-1", active=True)
    group = scim.create_group("Fuzzers", members=[user["id"]], externalId="ext-g")
    return {"Users": user["id"], "Groups": group["id"], "others": others}


resource_types = st.sampled_from(["Users", "Groups"])


def rarely(headers: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    """No extra headers three times in four: most requests should get past them."""
    return st.one_of(st.just({}), st.just({}), st.just({}), headers)


scim_headers = rarely(st.fixed_dictionaries({}, optional={
    "Content-Type": gen.content_types, "If-Match": gen.header_values, "If-None-Match": gen.header_values,
    "Authorization": gen.authorizations, "Accept": gen.header_values}))
write_headers = rarely(st.fixed_dictionaries({}, optional={"If-Match": gen.header_values,
                                                           "Content-Type": gen.content_types}))


@st.composite
def scim_paths(draw, ids) -> str:
    kind = draw(resource_types)
    segment = draw(st.one_of(st.sampled_from([ids[kind]] * 3 + [ids["Users"] if kind == "Groups" else ids["Groups"]]),
                             gen.path_segments()))
    return "/scim/v2" + draw(st.sampled_from([
        f"/{kind}", f"/{kind}", f"/{kind}/{segment}", f"/{kind}/{segment}", f"/{kind}/{segment}", f"/{kind}/.search",
        "/.search", "/Bulk", "/ServiceProviderConfig", "/ResourceTypes", f"/ResourceTypes/{segment}",
        "/ResourceTypes/User", "/Schemas", f"/Schemas/{segment}", f"/Schemas/{gen.USER_SCHEMA}", "/Me",
        f"/{segment}", "", "/", f"/{kind}/{segment}/extra", f"/{kind}/",
    ]))


def test_any_request_to_scim_endpoints(wire, resources):
    documents = st.one_of(gen.resources, gen.patch_bodies, gen.search_bodies, gen.bulk_bodies)
    methods = st.sampled_from(["GET", "GET", "POST", "POST", "PUT", "PATCH", "PATCH", "DELETE", "HEAD", "OPTIONS",
                                "TRACE"])

    @plan("scim_endpoints")
    @given(method=methods, path=scim_paths(resources), body=st.one_of(st.none(), gen.bodies(documents)),
           query=gen.query_strings, headers=scim_headers)
    def run(method, path, body, query, headers):
        protected = {f"/scim/v2/{kind}/{resources[kind]}": kind for kind in ("Users", "Groups")}
        target = path if method in ("PUT", "PATCH", "DELETE") and path in protected else None
        before = wire.read(target) if target else None
        response = wire.generated(method, path, body=body, query=query, headers=headers)
        if target and response.status_code >= 400:
            assert wire.read(target) == before, f"a refused {method} changed {target}"
        if target and method == "DELETE" and response.status_code == 204:
            resources[protected[target]] = _recreate(wire, protected[target])
        assert_live_count_kept()

    run()
    wire.expect("scim_endpoints")


def test_generated_filters(wire, resources):
    @plan("filters")
    @given(kind=resource_types, filter_=gen.filters, params=rarely(gen.list_parameters), search=st.booleans())
    def run(kind, filter_, params, search):
        if search:
            body = json.dumps({"schemas": [gen.SEARCH_REQUEST], **params, "filter": filter_}).encode()
            wire.generated("POST", f"/scim/v2/{kind}/.search", body=body)
        else:
            query = "&".join(f"{gen.quoted(k)}={gen.quoted(v)}" for k, v in {**params, "filter": filter_}.items())
            wire.generated("GET", f"/scim/v2/{kind}", query=query)

    run()
    wire.expect("filters")


def write_and_compare(wire, last_read: dict, method: str, target: str, **request) -> None:
    """Send a generated write to `target`; when it is refused, the resource read back must be
    as it was. `last_read` keeps each resource's last reading for the next example."""
    before = last_read.pop(target, None) or wire.read(target)
    response = wire.generated(method, target, **request)
    after = wire.read(target)
    if response.status_code >= 400:
        assert after == before, f"a refused {method} changed the resource"
    else:
        last_read.clear()  # a change to a user shows in its groups' members, and the other way round
    last_read[target] = after  # the state before the next example


def test_failed_patch_leaves_the_resource_as_it_was(wire, resources):
    last_read = {}
    user_ids = [resources["Users"], *resources["others"]]
    patches = {"Users": gen.patch_bodies_for(gen.user_patches(user_ids)),
               "Groups": gen.patch_bodies_for(gen.group_patches(user_ids))}
    kinds_and_bodies = resource_types.flatmap(lambda kind: st.tuples(st.just(kind), gen.bodies(patches[kind])))

    @plan("patch")
    @given(kind_and_body=kinds_and_bodies, headers=write_headers, query=st.one_of(st.just(""), gen.query_strings))
    def run(kind_and_body, headers, query):
        kind, body = kind_and_body
        write_and_compare(wire, last_read, "PATCH", f"/scim/v2/{kind}/{resources[kind]}", body=body, headers=headers,
                          query=query)

    run()
    wire.expect("patch")


def test_failed_put_leaves_the_resource_as_it_was(wire, resources):
    last_read = {}
    documents = {"Users": st.one_of(gen.plausible_user, gen.resources),
                 "Groups": st.one_of(gen.plausible_group, gen.resources)}
    kinds_and_bodies = resource_types.flatmap(lambda kind: st.tuples(st.just(kind), gen.bodies(documents[kind])))

    @plan("put")
    @given(kind_and_body=kinds_and_bodies, headers=write_headers)
    def run(kind_and_body, headers):
        kind, body = kind_and_body
        write_and_compare(wire, last_read, "PUT", f"/scim/v2/{kind}/{resources[kind]}", body=body, headers=headers)

    run()
    wire.expect("put")


def test_generated_bulk_requests(wire, resources):
    @plan("bulk")
    @given(body=gen.bodies(gen.bulk_bodies), headers=write_headers)
    def run(body, headers):
        wire.generated("POST", "/scim/v2/Bulk", body=body, headers=headers)
        assert_live_count_kept()

    run()
    wire.expect("bulk")


@pytest.fixture
def credentials(db, idp_token):
    """Real secrets the generated requests may use, so some get past authentication."""
    client, secret = oauth_client(acme())
    return {"client_id": client.client_id, "client_secret": secret, "token": idp_token,
            "audit_token": bearer_token(acme(), name="SIEM", scope=("audit:read",))}


@st.composite
def other_requests(draw, credentials):
    """(method, path, form or query, headers) for the routes outside /scim/v2."""
    secret = st.sampled_from(list(credentials.values()))
    field = st.one_of(secret, gen.text, gen.header_values)
    method = draw(st.sampled_from(["GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "HEAD"]))
    known = st.sampled_from(["/oauth/token", "/oauth/revoke", "/oauth/introspect", "/api/v1/audit", "/healthz",
                             "/readyz", "/.well-known/oauth-authorization-server", "/oauth/authorize", "/metrics",
                             "/", "/oauth/token", "/oauth/revoke", "/oauth/introspect", "/api/v1/audit",
                             "/oauth/authorize", "/oauth/login", "/oauth/logout"])
    path = draw(st.one_of(
        known, known, known,
        gen.path_segments().map(lambda segment: f"/join/{segment}"),
        gen.path_segments().map(lambda segment: f"/{segment}"),
    ))
    form = draw(st.dictionaries(
        st.sampled_from(["grant_type", "client_id", "client_secret", "scope", "token", "token_type_hint",
                         "refresh_token", "code", "redirect_uri", "form_token", "x", "email", "password",
                         "csrf_token", "decision", "next", "response_type", "code_challenge", "code_verifier"]),
        st.one_of(st.sampled_from(["client_credentials", "refresh_token", "authorization_code", "password",
                                   "access_token", "scim:read scim:write", "audit:read", "bogus"]), field),
        max_size=5))
    query = draw(st.one_of(
        gen.query_strings,
        st.dictionaries(st.sampled_from(["limit", "after", "since", "user", "action", "response_type", "client_id",
                                         "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method",
                                         "next"]),
                        st.one_of(gen.text, st.integers(-(2**70), 2**70).map(str),
                                  st.sampled_from(["2026-11-01", "2026-11-01T00:00:00Z", "yesterday", "1e3"])))
        .map(lambda params: "&".join(f"{gen.quoted(k)}={gen.quoted(v)}" for k, v in params.items())),
    ))
    authorization = draw(st.one_of(
        secret.map(lambda value: f"Bearer {value}"),
        st.tuples(secret, secret).map(lambda pair: gen.basic_auth(*pair)),
        gen.authorizations,
    ))
    headers = {"Authorization": authorization}
    if draw(st.booleans()):
        headers["Content-Type"] = draw(gen.content_types)
    return method, path, form, query, headers


def test_generated_requests_outside_scim(wire, credentials):
    @plan("other_endpoints")
    @given(request=other_requests(credentials))
    def run(request):
        method, path, form, query, headers = request
        body = "&".join(f"{gen.quoted(k)}={gen.quoted(v)}" for k, v in form.items()).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        wire.generated(method, path, body=body if method != "GET" else None, query=query, headers=headers)

    run()
    wire.expect("other_endpoints")


def _recreate(wire: Wire, kind: str) -> str:
    body = ({"schemas": [gen.USER_SCHEMA], "userName": f"again{wire.sent}@acme.example"} if kind == "Users"
            else {"schemas": [gen.GROUP_SCHEMA], "displayName": f"Again {wire.sent}"})
    response = wire.send("POST", f"/scim/v2/{kind}", body=json.dumps(body).encode())
    assert response.status_code == 201, response.get_data()
    return response.get_json()["id"]
