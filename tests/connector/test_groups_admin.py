"""Admin groups over SCIM (DESIGN.md §3): members of a group named in the organisation's
admin_groups are Ally admins while they are members; with admin_groups_are_teams false such a
group is still a SCIM group but not an Ally team."""
import json

from connector import admins, directory
from connector.models import AuditEvent, User
from connector.organisations import update_organisation
from tests.connector.group_helpers import api  # noqa: F401 - fixture


def _admin(user_id: str) -> bool:
    return admins.is_effective_admin(User.get_by_id(user_id))


def _audited(action: str) -> list[str]:
    return [e.target_label for e in AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id)]


def test_membership_of_an_admin_group_grants_and_revokes(api, make_user):
    ann, bob = make_user("ann@acme.example"), make_user("bob@acme.example")
    group = api.create_group("ally admins", members=[ann.id])  # names compare without case
    path = f"/Groups/{group['id']}"
    assert _admin(ann.id) and not _admin(bob.id)
    api.ops(path, {"op": "add", "path": "members", "value": [{"value": bob.id}]})
    assert _admin(bob.id)
    api.ops(path, {"op": "Remove", "path": "members", "value": [{"value": ann.id}]})
    assert not _admin(ann.id) and _admin(bob.id)
    assert api.delete(path).status_code == 204
    assert not _admin(bob.id)
    assert _audited("user.admin_granted") == ["ann@acme.example", "bob@acme.example"]
    assert _audited("user.admin_revoked") == ["ann@acme.example", "bob@acme.example"]


def test_leaving_keeps_admin_granted_another_way(api, make_user):
    ann = make_user("ann@acme.example")
    admins.grant_admin(ann)
    group = api.create_group("Ally Admins", members=[ann.id])
    api.ops(f"/Groups/{group['id']}", {"op": "replace", "path": "members", "value": []})
    assert _admin(ann.id)
    assert _audited("user.admin_revoked") == []


def test_renaming_into_and_out_of_an_admin_group(api, make_user):
    ann = make_user("ann@acme.example")
    group = api.create_group("IT", members=[ann.id])
    path = f"/Groups/{group['id']}"
    assert not _admin(ann.id)
    api.ops(path, {"op": "replace", "value": {"id": group["id"], "displayName": "Ally Admins"}})
    assert _admin(ann.id)
    api.put(path, {"schemas": group["schemas"], "displayName": "IT", "members": [{"value": ann.id}]})
    assert not _admin(ann.id)


def test_suspended_members_stay_in_the_admin_group(api, make_user):
    ann = make_user("ann@acme.example")
    group = api.create_group("Ally Admins", members=[ann.id])
    directory.suspend(User.get_by_id(ann.id))
    assert api.member_ids(group["id"]) == {ann.id}


def test_admin_groups_that_are_not_teams(api, cli, org, make_user):
    """admin_groups_are_teams: false: the group exists for SCIM and grants admin, but Ally's
    team lists (teams list, users list) leave it out. The users' SCIM `groups` keep it: the IdP
    pushed that membership and compares it (README "Groups and teams")."""
    update_organisation(org, admin_groups_are_teams=False)
    ann = make_user("ann@acme.example")
    admin_group = api.create_group("Ally Admins", members=[ann.id])
    sales = api.create_group("Sales", members=[ann.id])
    child = api.create_group("Helpdesk", **{"urn:ietf:params:scim:schemas:extension:ally:2.0:Group": {
        "parent": {"value": admin_group["id"]}}})
    assert _admin(ann.id)
    assert api.get("/Groups").get_json()["totalResults"] == 3
    assert api.member_ids(admin_group["id"]) == {ann.id}
    listed = json.loads(cli("teams", "list", "--org", "acme", "--json").output)
    assert [(row["name"], row["parent"]) for row in listed] == [("Helpdesk", None), ("Sales", None)]
    users = json.loads(cli("users", "list", "--org", "acme", "--json").output)
    assert [(row["userName"], row["teams"], row["admin"]) for row in users] == [("ann@acme.example", ["Sales"], True)]
    groups = api.get(f"/Users/{ann.id}", query_string={"attributes": "groups"}).get_json()["groups"]
    assert [group["display"] for group in groups] == ["Ally Admins", "Sales"]
    assert sales["id"] != child["id"]


def test_admin_groups_that_are_teams_are_listed(api, cli, make_user):
    ann = make_user("ann@acme.example")
    api.create_group("Ally Admins", members=[ann.id])
    listed = json.loads(cli("teams", "list", "--org", "acme", "--json").output)
    assert [(row["name"], row["admin_group"]) for row in listed] == [("Ally Admins", True)]
