"""The Ally rules (DESIGN.md §3) as an identity provider meets them over SCIM, with the exact
texts: auto-join and invitations, the outside-domains policy, suspension and reactivation, the
suspended-account refusal, duplicates, deletion of objective owners, admins through `roles`,
managers, and IdP-managed accounts."""
import json

import pytest

from connector import directory, teams
from connector.models import AuditEvent, Organisation, OutboxMessage, User
from connector.objectives import add_objective
from connector.organisations import find_organisation
from tests.helpers import assert_scim_error

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ALLY = "urn:ietf:params:scim:schemas:extension:ally:2.0:User"


def user_body(user_name, **attributes):
    return {"schemas": [USER], "userName": user_name,
            "emails": [{"value": user_name, "type": "work", "primary": True}], **attributes}


def create(scim, user_name, **attributes):
    response = scim.post("/Users", user_body(user_name, **attributes))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def replace(path, value):
    return {"op": "replace", "path": path, "value": value}


def stored(user_id) -> User:
    return User.get_by_id(user_id)


def test_work_domain_joins_active_and_others_are_invited(scim, db):
    """Ally auto-join: a work-domain email joins directly; anyone else gets an invitation."""
    member = create(scim, "ann@acme.example")
    guest = create(scim, "gus@partner.example")
    assert member[ALLY] == {"status": "active"} and member["active"] is True
    assert guest[ALLY] == {"status": "invited"} and guest["active"] is True
    assert [m.recipient for m in OutboxMessage.select()] == ["gus@partner.example"]


def test_outside_domain_refused_by_policy(scim, db):
    """outside_domains: reject — 400 invalidValue naming the domain and the auto-join domains."""
    Organisation.update(outside_domains="reject").where(Organisation.slug == "acme").execute()
    response = scim.post("/Users", user_body("gus@partner.example"))
    assert_scim_error(response, 400, "invalidValue",
                      "The email domain 'partner.example' is not one of this organisation's domains (acme.example)")
    assert User.select().count() == 0


def test_suspend_and_reactivate(scim, db):
    """active=false suspends ("Deactivate"): still visible with active false; active=true
    reactivates ("Make Active")."""
    user = create(scim, "bea@acme.example")
    team = teams.create_team(find_organisation("acme"), "Sales")
    teams.add_members(team, [user["id"]])
    suspended = scim.ops(f"/Users/{user['id']}", replace("active", False)).get_json()
    assert (suspended["active"], suspended[ALLY]["status"]) == (False, "suspended")
    assert scim.get(f"/Users/{user['id']}").get_json()["active"] is False
    assert teams.member_ids(team) == [user["id"]]
    back = scim.ops(f"/Users/{user['id']}", replace("active", True)).get_json()
    assert (back["active"], back[ALLY]["status"]) == (True, "active")


def test_entra_periodic_active_true_changes_nothing(scim, db):
    """Entra re-asserts active "True" on active users: a no-op that keeps even the version."""
    user = create(scim, "cal@acme.example")
    again = scim.ops(f"/Users/{user['id']}", {"op": "Replace", "path": "active", "value": "True"})
    assert again.status_code == 200
    assert again.headers["ETag"] == 'W/"1"' and again.get_json()["meta"] == user["meta"]
    assert [e.action for e in AuditEvent.select().where(AuditEvent.target_id == user["id"])] == ["user.created"]


@pytest.mark.parametrize("clash", ["userName", "email"])
def test_creating_a_suspended_users_account_answers_409_with_the_hint(scim, db, clash):
    """Ally: inviting a suspended user fails with "This account has been suspended"; over SCIM
    409 uniqueness, with the hint to reactivate with active: true."""
    user = create(scim, "dan@acme.example")
    scim.ops(f"/Users/{user['id']}", replace("active", False))
    body = user_body("DAN@acme.example") if clash == "userName" else user_body(
        "daniel", emails=[{"value": "Dan@Acme.example", "type": "work"}])
    response = scim.post("/Users", body)
    error = assert_scim_error(response, 409, "uniqueness")
    assert error["detail"] == (f'This account has been suspended: reactivate it with "active": true '
                               f'(PATCH or PUT /Users/{user["id"]}) instead of creating it again')


def test_other_duplicates_answer_409(scim, db):
    """RFC 7644 §3.3: "If the service provider determines that the creation of the requested
    resource conflicts with existing resources ... 409 (Conflict) with a "scimType" error code
    of "uniqueness"."""
    create(scim, "eve@acme.example")
    assert_scim_error(scim.post("/Users", user_body("EVE@acme.example")), 409, "uniqueness",
                      "A user with the userName 'EVE@acme.example' already exists")
    other = create(scim, "eve2@acme.example")
    renamed = scim.ops(f"/Users/{other['id']}", replace("userName", "Eve@Acme.example"))
    assert_scim_error(renamed, 409, "uniqueness", "A user with the userName 'Eve@Acme.example' already exists")


def test_delete_of_an_objective_owner_suspends_and_leaves_them_pending(scim, db, cli):
    """DESIGN.md §3: DELETE revokes access at once (204), every later request is 404 (RFC 7644
    §3.6), and the admins see the user pending deletion until the objectives are reassigned."""
    owner = create(scim, "fred@acme.example")
    add_objective(find_organisation("acme"), stored(owner["id"]), "Grow revenue")
    assert scim.delete(f"/Users/{owner['id']}").status_code == 204
    for response in (scim.get(f"/Users/{owner['id']}"), scim.delete(f"/Users/{owner['id']}"),
                     scim.ops(f"/Users/{owner['id']}", replace("title", "x")),
                     scim.put(f"/Users/{owner['id']}", user_body("fred@acme.example"))):
        assert_scim_error(response, 404, None, f"No user with the id '{owner['id']}' in this organisation")
    listed = scim.get('/Users?filter=userName eq "fred@acme.example"').get_json()
    assert listed["totalResults"] == 0
    rows = json.loads(cli("users", "list", "--org", "acme", "--json").output)
    assert [(r["userName"], r["status"], r["pending_deletion"]) for r in rows] == [
        ("fred@acme.example", "suspended", True)]
    assert create(scim, "fred@acme.example")["id"] != owner["id"]


def test_delete_without_objectives_deletes(scim, db):
    user = create(scim, "gia@acme.example")
    assert scim.delete(f"/Users/{user['id']}").status_code == 204
    assert User.get_or_none(User.id == user["id"]) is None
    assert_scim_error(scim.get(f"/Users/{user['id']}"), 404)


def test_roles_admin_grants_and_its_removal_revokes(scim, db):
    user = create(scim, "hal@acme.example", roles=[{"value": "admin"}])
    assert stored(user["id"]).is_admin
    assert scim.get(f"/Users/{user['id']}").get_json()["roles"] == [{"value": "admin"}]
    scim.ops(f"/Users/{user['id']}", {"op": "remove", "path": 'roles[value eq "admin"]'})
    assert not stored(user["id"]).is_admin
    scim.ops(f"/Users/{user['id']}", {"op": "add", "path": "roles", "value": [{"value": "Admin", "primary": True}]})
    assert stored(user["id"]).is_admin
    assert [e.action for e in AuditEvent.select().where(AuditEvent.action.startswith("user.admin"))
            .order_by(AuditEvent.id)] == ["user.admin_granted", "user.admin_revoked", "user.admin_granted"]


def test_adding_null_roles_keeps_the_admin_right(scim, db):
    """An add of null or "" to roles is refused (it used to clear roles, and so revoke admin)."""
    user = create(scim, "hap@acme.example", roles=[{"value": "admin"}])
    for operation in ({"op": "Add", "path": "roles", "value": None}, {"op": "add", "value": {"roles": ""}}):
        assert_scim_error(scim.ops(f"/Users/{user['id']}", operation), 400, "invalidValue")
    assert stored(user["id"]).is_admin
    assert scim.get(f"/Users/{user['id']}").get_json()["roles"] == [{"value": "admin"}]


def test_manager_set_changed_and_cleared(scim, db):
    boss = create(scim, "ivy@acme.example", displayName="Ivy Boss")
    user = create(scim, "jay@acme.example", **{ENTERPRISE: {"manager": {"value": boss["id"]}}})
    assert user[ENTERPRISE]["manager"] == {"value": boss["id"], "$ref": f"https://ally.test/scim/v2/Users/{boss['id']}",
                                           "displayName": "Ivy Boss"}
    assert stored(user["id"]).manager_id == boss["id"]
    scim.ops(f"/Users/{user['id']}", {"op": "remove", "path": f"{ENTERPRISE}:manager"})
    assert stored(user["id"]).manager_id is None
    assert ENTERPRISE not in scim.get(f"/Users/{user['id']}").get_json()


def test_a_manager_named_in_capitals_is_the_same_user(scim, db):
    """RFC 7643 §4.3: manager.value is caseExact false; Entra's string form too (IDP.md)."""
    boss = create(scim, "lee@acme.example")
    user = create(scim, "mo@acme.example", **{ENTERPRISE: {"manager": {"value": boss["id"].upper()}}})
    assert stored(user["id"]).manager_id == boss["id"]
    assert user[ENTERPRISE]["manager"]["value"] == boss["id"]
    changes = AuditEvent.select().where(AuditEvent.action == "user.manager_changed")
    assert changes.count() == 1
    again = scim.ops(f"/Users/{user['id']}", replace(f"{ENTERPRISE}:manager", boss["id"].upper()))
    assert again.status_code == 200 and stored(user["id"]).manager_id == boss["id"]
    assert changes.count() == 1  # the same manager: no change recorded


def test_unknown_manager_is_400_invalid_value(scim, db):
    user = create(scim, "kim@acme.example")
    response = scim.ops(f"/Users/{user['id']}", replace(f"{ENTERPRISE}:manager", "no-such-id"))
    assert_scim_error(response, 400, "invalidValue", "The manager 'no-such-id' is not a user of this organisation")


def test_manager_of_another_organisation_is_400_invalid_value(scim, db):
    from connector.organisations import create_organisation

    globex = create_organisation("Globex", slug="globex", domains=["globex.example"])
    outsider = directory.create_user(globex, {"user_name": "zed@globex.example"})
    user = create(scim, "lea@acme.example")
    response = scim.ops(f"/Users/{user['id']}", replace(f"{ENTERPRISE}:manager", outsider.id))
    assert_scim_error(response, 400, "invalidValue", f"The manager '{outsider.id}' is not a user of this organisation")


def test_manager_cycle_is_400_invalid_value(scim, db):
    """DESIGN.md §3: managers, no cycles."""
    top = create(scim, "max@acme.example")
    middle = create(scim, "ned@acme.example", **{ENTERPRISE: {"manager": {"value": top["id"]}}})
    response = scim.ops(f"/Users/{top['id']}", replace(f"{ENTERPRISE}:manager", middle["id"]))
    assert_scim_error(response, 400, "invalidValue",
                      "ned@acme.example cannot be the manager of max@acme.example: "
                      "max@acme.example is already above ned@acme.example in the management chain")
    own = scim.ops(f"/Users/{top['id']}", replace(f"{ENTERPRISE}:manager", top["id"]))
    assert_scim_error(own, 400, "invalidValue", "max@acme.example cannot be their own manager")


def test_provisioned_users_are_managed_by_the_idp_and_seen(scim, db):
    user = create(scim, "ora@acme.example")
    row = stored(user["id"])
    assert row.managed_by_idp and row.idp_seen_at is not None
    by_hand = directory.create_user(find_organisation("acme"), {"user_name": "pat@acme.example"})
    assert not by_hand.managed_by_idp and by_hand.idp_seen_at is None
    scim.ops(f"/Users/{by_hand.id}", replace("title", "Engineer"))
    taken_over = stored(by_hand.id)
    assert taken_over.managed_by_idp and taken_over.idp_seen_at is not None


def test_password_is_accepted_never_stored_nor_returned(scim, db):
    """RFC 7643 §4.1.1 password: "This attribute MUST NOT be returned" (returned never)."""
    user = create(scim, "quin@acme.example", password="t1meMa$heen")
    assert "password" not in user and "password" not in scim.get(f"/Users/{user['id']}").get_json()
    put = scim.put(f"/Users/{user['id']}", user_body("quin@acme.example", password="n3wPa$$"))
    assert put.status_code == 200 and "password" not in put.get_json()
    patched = scim.ops(f"/Users/{user['id']}", replace("password", "0ther"))
    assert patched.status_code == 200 and "password" not in patched.get_json()
    assert stored(user["id"]).password_hash is None
    assert stored(user["id"]).version == 1
    dump = json.dumps([e.changes for e in AuditEvent.select()])
    assert "t1meMa" not in dump and "n3wPa" not in dump and "0ther" not in dump


def test_groups_list_the_users_teams(scim, db):
    user = create(scim, "rae@acme.example")
    org = find_organisation("acme")
    sales, ops = teams.create_team(org, "Sales"), teams.create_team(org, "Ops")
    teams.add_members(sales, [user["id"]])
    teams.add_members(ops, [user["id"]])
    base = "https://ally.test/scim/v2/Groups"
    assert scim.get(f"/Users/{user['id']}").get_json()["groups"] == [
        {"value": ops.id, "$ref": f"{base}/{ops.id}", "display": "Ops", "type": "direct"},
        {"value": sales.id, "$ref": f"{base}/{sales.id}", "display": "Sales", "type": "direct"},
    ]
    found = scim.get(f'/Users?filter=groups eq "{sales.id}"&attributes=userName').get_json()
    assert [r["userName"] for r in found["Resources"]] == ["rae@acme.example"]


def test_other_organisations_users_are_not_found(scim, db):
    from connector.organisations import create_organisation

    globex = create_organisation("Globex", slug="globex", domains=["globex.example"])
    outsider = directory.create_user(globex, {"user_name": "sam@globex.example"})
    assert_scim_error(scim.get(f"/Users/{outsider.id}"), 404)
    assert scim.get("/Users").get_json()["totalResults"] == 0


def test_idp_dialects_reach_the_directory(scim, db):
    """Entra's forms, normalised by scim.dialects, change the Ally user itself: Add to a work
    email that does not exist yet creates it (and it becomes the address Ally mails), dotted
    and URN keys in a path-less replace set the nested attributes, a bare-string manager sets
    the manager, and "False" suspends."""
    boss = create(scim, "boss@acme.example")
    user = scim.post("/Users", {"schemas": [USER], "userName": "nora"}).get_json()
    assert stored(user["id"]).email is None
    response = scim.ops(
        f"/Users/{user['id']}",
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "Nora@Acme.example"},
        {"op": "replace", "value": {"name.givenName": "Nora", f"{ENTERPRISE}:department": "Sales"}},
        {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": boss["id"]},
        {"op": "Replace", "path": "active", "value": "False"})
    assert response.status_code == 200, response.get_json()
    row = stored(user["id"])
    assert (row.email, row.email_key, row.given_name, row.department, row.manager_id, row.status) == (
        "Nora@Acme.example", "nora@acme.example", "Nora", "Sales", boss["id"], "suspended")
    assert response.get_json()["emails"] == [{"type": "work", "value": "Nora@Acme.example"}]


def test_bulk_creates_users_through_the_same_rules(scim, db):
    """RFC 7644 §3.7: a bulkId reference names a user created earlier in the same request."""
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "boss",
         "data": user_body("tess@acme.example", displayName="Tess")},
        {"method": "POST", "path": "/Users", "bulkId": "report",
         "data": user_body("uma@acme.example", **{ENTERPRISE: {"manager": {"value": "bulkId:boss"}}})},
        {"method": "POST", "path": "/Users", "bulkId": "again", "data": user_body("TESS@acme.example")},
    ]}
    response = scim.post("/Bulk", body)
    assert response.status_code == 200, response.get_json()
    statuses = [operation["status"] for operation in response.get_json()["Operations"]]
    assert statuses == ["201", "201", "409"]
    boss = User.get(User.user_name == "tess@acme.example")
    assert User.get(User.user_name == "uma@acme.example").manager_id == boss.id


def test_the_ally_extension_is_published(scim, db):
    """RFC 7643 §7: /Schemas describes the Ally user extension; /ResourceTypes names it."""
    schema = scim.get(f"/Schemas/{ALLY}").get_json()
    assert schema["attributes"] == [{
        "name": "status", "type": "string", "multiValued": False,
        "description": "The user's Ally status: invited (invitation sent, not joined yet), active or suspended.",
        "required": False, "canonicalValues": ["invited", "active", "suspended"], "caseExact": False,
        "mutability": "readOnly", "returned": "default", "uniqueness": "none"}]
    users = scim.get("/ResourceTypes/User").get_json()
    assert users["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}, {"schema": ALLY, "required": False}]
    user = create(scim, "vic@acme.example")
    refused = scim.ops(f"/Users/{user['id']}", replace(f"{ALLY}:status", "active"))
    assert_scim_error(refused, 400, "mutability")


def test_a_connection_that_skips_invitations_creates_and_reactivates_without_email(client, db):
    """Ally's "Skip Invitation Email" for one IdP connection (connector.integrations): users it
    creates outside the work domains are invited without an email, and so are those it
    reactivates before they joined; another connection of the organisation still sends them."""
    from connector import integrations
    from connector.oauth_tenancy import tenant_of
    from oauth import tokens
    from tests.helpers import Api

    quiet_row, quiet_token = tokens.create_token(tenant_of(find_organisation("acme")), name="Setup")
    integrations.set_skip_invitations(f"token:{quiet_row.id}", True)
    quiet = Api(client, headers={"Authorization": f"Bearer {quiet_token}"})
    guest = create(quiet, "wes@partner.example")
    assert guest[ALLY] == {"status": "invited"} and OutboxMessage.select().count() == 0
    quiet.ops(f"/Users/{guest['id']}", replace("active", False))
    quiet.ops(f"/Users/{guest['id']}", replace("active", True))
    assert stored(guest["id"]).status == "invited" and OutboxMessage.select().count() == 0
    _, loud_token = tokens.create_token(tenant_of(find_organisation("acme")), name="Okta")
    create(Api(client, headers={"Authorization": f"Bearer {loud_token}"}), "xia@partner.example")
    assert [m.recipient for m in OutboxMessage.select()] == ["xia@partner.example"]
