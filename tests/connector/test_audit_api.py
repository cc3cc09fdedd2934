"""GET /api/v1/audit: the audit trail as JSON for admins' tools, paged, audit:read only."""
from connector import audit, directory
from oauth import scopes
from tests.oauth.helpers import bearer, bearer_token, other_org


def audit_token(org, scope=(scopes.AUDIT_READ,)):
    return bearer(bearer_token(org, name="siem", scope=scope))


def test_events_come_oldest_first_with_a_next_link(client, org, make_user):
    for name in ("ann", "bob", "cy"):
        make_user(f"{name}@acme.example")
    headers = audit_token(org)
    first = client.get("/api/v1/audit?action=user.created&limit=2", headers=headers)
    assert first.status_code == 200
    body = first.get_json()
    assert [event["target_label"] for event in body["events"]] == ["ann@acme.example", "bob@acme.example"]
    assert body["events"][0]["actor"] == "system" and body["events"][0]["at"].endswith("Z")
    second = client.get(body["next"], headers=headers).get_json()
    assert [event["target_label"] for event in second["events"]] == ["cy@acme.example"]
    assert second["next"] is None


def test_filters_by_user_and_since(client, org, make_user):
    ann = make_user("ann@acme.example")
    make_user("bob@acme.example")
    directory.suspend(ann)
    headers = audit_token(org)
    about_ann = client.get("/api/v1/audit?user=ann@acme.example", headers=headers).get_json()["events"]
    assert {event["action"] for event in about_ann} >= {"user.created", "user.suspended"}
    assert all(event["target_id"] == ann.id for event in about_ann)
    future = client.get("/api/v1/audit?since=2999-01-01T00:00:00Z", headers=headers).get_json()
    assert future == {"events": [], "next": None}


def test_only_the_credentials_organisation_is_shown(client, org, make_user):
    make_user("ann@acme.example")
    globex = other_org()
    with audit.acting_as("cli"):
        directory.create_user(globex, {"user_name": "gus@globex.example"})
    labels = [event["target_label"] for event in
              client.get("/api/v1/audit?action=user.created", headers=audit_token(globex)).get_json()["events"]]
    assert labels == ["gus@globex.example"]


def test_scim_tokens_cannot_read_the_audit_trail(client, org):
    response = client.get("/api/v1/audit", headers=audit_token(org, scope=scopes.SCIM_SCOPES))
    assert response.status_code == 403
    assert "audit:read" in response.get_json()["detail"]
    assert client.get("/api/v1/audit").status_code == 401


def test_bad_parameters_are_named(client, org):
    headers = audit_token(org)
    for query, text in [("since=yesterday", "since='yesterday' is not an ISO 8601"),
                        ("limit=0", "limit='0' must be a whole number from 1 to 1000"),
                        ("after=-3", "after='-3' must be a whole number from 0 to 9223372036854775807"),
                        # none of these may reach int(), the clock or the database as they are
                        ("since=0001-01-01T00:00:00%2B01:00", "since='0001-01-01T00:00:00+01:00' is not an ISO 8601"),
                        ("limit=%C2%B2", "limit='\\xb2' must be a whole number"),
                        ("after=9223372036854775808", "after='9223372036854775808' must be a whole number"),
                        ("limit=" + "9" * 4301, "limit='" + "9" * 40 + "' must be a whole number")]:
        response = client.get(f"/api/v1/audit?{query}", headers=headers)
        assert response.status_code == 400, query[:40]
        assert text in response.get_json()["detail"].encode("ascii", "backslashreplace").decode()


def test_a_nul_in_a_filter_is_refused(client, org):
    """PostgreSQL text cannot hold NUL: named as the problem, not a 500."""
    for name, query in [("user", "user=a%00b"), ("action", "action=user.%00")]:
        response = client.get(f"/api/v1/audit?{query}", headers=audit_token(org))
        assert response.status_code == 400
        assert response.get_json()["detail"] == f"{name} must not contain a NUL character (%00)"


def test_token_cli_accepts_the_audit_scope(cli, org):
    result = cli("token", "create", "--org", "acme", "--name", "siem", "--scope", "audit:read", "--json")
    assert result.exit_code == 0, result.output
    assert '"audit:read"' in result.output
