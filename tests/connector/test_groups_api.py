"""/scim/v2/Groups over Ally teams: create, read, list, filter, sort, page, project, replace,
delete, search, ETags; names unique per organisation; members are users of the organisation."""
from connector import directory, teams
from connector.models import Membership, Team, User
from connector.organisations import create_organisation
from tests.connector.group_helpers import ALLY_GROUP, GROUP, ScimApi, api  # noqa: F401 - fixture
from tests.helpers import assert_scim_error
from tests.oauth.helpers import bearer_token

BASE = "https://ally.test/scim/v2"


def test_create_and_get_a_group(api, make_user):
    """RFC 7644 §3.3: "the server SHALL return a 201 Created response code" with the resource."""
    ann = make_user("ann@acme.example")
    directory.update_user(ann, {"display_name": "Ann Archer"})
    bob = make_user("bob@acme.example")
    response = api.post("/Groups", {"schemas": [GROUP], "displayName": "Tour Guides", "externalId": "8aa1",
                                    "members": [{"value": ann.id}, {"value": bob.id}]})
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"{BASE}/Groups/{body['id']}"
    assert response.headers["ETag"] == body["meta"]["version"] == 'W/"1"'
    assert body["displayName"] == "Tour Guides" and body["externalId"] == "8aa1"
    assert body["members"] == [
        {"value": ann.id, "display": "Ann Archer", "type": "User", "$ref": f"{BASE}/Users/{ann.id}"},
        {"value": bob.id, "display": "bob@acme.example", "type": "User", "$ref": f"{BASE}/Users/{bob.id}"}]
    team = Team.get_by_id(body["id"])
    assert (team.name, team.external_id, team.managed_by_idp) == ("Tour Guides", "8aa1", True)
    assert api.group(body["id"]) == body


def test_names_are_unique_per_organisation_in_any_case(api, client, org):
    """RFC 7644 §3.3: "If the service provider determines that the creation of the requested
    resource conflicts with existing resources (e.g., a "User" resource with a duplicate
    "userName"), the service provider MUST return HTTP status code 409 (Conflict) with a
    "scimType" error code of "uniqueness"."""
    api.create_group("Tour Guides")
    assert_scim_error(api.post("/Groups", {"schemas": [GROUP], "displayName": "TOUR guides"}), 409, "uniqueness",
                      "A team named 'TOUR guides' already exists")
    other = ScimApi(client, bearer_token(create_organisation("Globex", slug="globex")))
    assert other.post("/Groups", {"schemas": [GROUP], "displayName": "Tour Guides"}).status_code == 201
    sales = api.create_group("Sales")
    assert_scim_error(api.ops(f"/Groups/{sales['id']}", {"op": "replace", "path": "displayName",
                                                           "value": "tour GUIDES"}), 409, "uniqueness",
                      "A team named 'tour GUIDES' already exists")


def test_a_member_that_is_not_a_user_of_the_organisation_is_refused(api, client, make_user):
    """Refused, not dropped: the IdP would never learn the member is missing."""
    stranger = make_user("x@globex.example", organisation=create_organisation("Globex"))
    ann = make_user("ann@acme.example")
    for members in ([{"value": "no-such-user"}], [{"value": ann.id}, {"value": stranger.id}]):
        response = api.post("/Groups", {"schemas": [GROUP], "displayName": "Ops", "members": members})
        missing = members[-1]["value"]
        assert_scim_error(response, 400, "invalidValue", f"No user with the id {missing} in this organisation")
    assert not Team.select().exists()
    group = api.create_group("Ops")
    response = api.ops(f"/Groups/{group['id']}", {"op": "add", "path": "members",
                                                   "value": [{"value": ann.id}, {"value": "gone"}]})
    assert_scim_error(response, 400, "invalidValue", "No user with the id gone in this organisation")
    assert api.member_ids(group["id"]) == set()


def test_empty_or_missing_display_name_is_refused(api):
    assert_scim_error(api.post("/Groups", {"schemas": [GROUP], "displayName": "  "}), 400, "invalidValue",
                      "A team needs a name")
    assert api.post("/Groups", {"schemas": [GROUP]}).status_code == 400


def test_unknown_group_is_404(api):
    """RFC 7644 §3.4.1: an unknown id is 404."""
    for response in (api.get("/Groups/nope"), api.delete("/Groups/nope"),
                     api.ops("/Groups/nope", {"op": "replace", "path": "displayName", "value": "x"}),
                     api.put("/Groups/nope", {"schemas": [GROUP], "displayName": "x"})):
        assert_scim_error(response, 404, None, "No team with the id 'nope' in this organisation")


def test_groups_of_another_organisation_are_invisible(api, client):
    globex = ScimApi(client, bearer_token(create_organisation("Globex", slug="globex")))
    theirs = globex.create_group("Theirs")
    assert api.get(f"/Groups/{theirs['id']}").status_code == 404
    assert api.get("/Groups").get_json()["totalResults"] == 0


def test_filters(api, make_user):
    """RFC 7644 §3.4.2.2; RFC 7643 §4.2: displayName is caseExact false, externalId and id are exact."""
    ann, bob = make_user("ann@acme.example"), make_user("bob@acme.example")
    guides = api.create_group("Tour Guides", members=[ann.id], externalId="Ext-1")
    sales = api.create_group("Sales", members=[ann.id, bob.id])

    def ids(text):
        body = api.get("/Groups", query_string={"filter": text, "excludedAttributes": "members"}).get_json()
        return {group["id"] for group in body["Resources"]}

    assert ids('displayName eq "tour guides"') == {guides["id"]}
    assert ids('displayName sw "TOUR"') == {guides["id"]}
    assert ids('externalId eq "Ext-1"') == {guides["id"]}
    assert ids('externalId eq "ext-1"') == set()
    assert ids(f'members eq "{bob.id}"') == {sales["id"]}
    assert ids(f'members.value eq "{ann.id}"') == {guides["id"], sales["id"]}
    assert ids(f'id eq "{guides["id"]}" or members pr') == {guides["id"], sales["id"]}
    assert ids('meta.created gt "2000-01-01T00:00:00Z"') == {guides["id"], sales["id"]}
    assert ids('displayName eq "nobody"') == set()
    assert_scim_error(api.get("/Groups", query_string={"filter": 'members.display eq "x"'}), 400, "invalidFilter")


def test_entra_reference_check(api, make_user):
    """IDP.md: Entra asks `id eq "g" and members eq "u"` with attributes=id or
    excludedAttributes=members; one result for a member, none otherwise; no member list."""
    ann, bob = make_user("ann@acme.example"), make_user("bob@acme.example")
    group = api.create_group("Tour Guides", members=[ann.id])
    for projection in ({"attributes": "id"}, {"excludedAttributes": "members"}):
        found = api.get("/Groups", query_string={"filter": f'id eq "{group["id"]}" and members eq "{ann.id}"',
                                                 **projection}).get_json()
        assert found["totalResults"] == 1 and "members" not in found["Resources"][0]
        missing = api.get("/Groups", query_string={"filter": f'id eq "{group["id"]}" and members eq "{bob.id}"',
                                                   **projection}).get_json()
        assert (missing["totalResults"], missing["Resources"]) == (0, [])
    only_id = api.get("/Groups", query_string={"filter": f'members eq "{ann.id}"', "attributes": "id"}).get_json()
    assert set(only_id["Resources"][0]) == {"schemas", "id"}


def test_member_ids_in_capitals_name_the_same_users(api, make_user):
    """RFC 7643 §4.2: members.value is caseExact false, in a create, a replace and a filter."""
    ann, bob = make_user("ann@acme.example"), make_user("bob@acme.example")
    group = api.create_group("Tour Guides", members=[ann.id.upper(), ann.id])
    assert [member["value"] for member in group["members"]] == [ann.id]
    replaced = api.put(f"/Groups/{group['id']}", {"schemas": [GROUP], "displayName": "Tour Guides",
                                                   "members": [{"value": bob.id.upper()}]})
    assert replaced.status_code == 200 and api.member_ids(group["id"]) == {bob.id}
    found = api.get("/Groups", query_string={"filter": f'id eq "{group["id"]}" and members eq "{bob.id.upper()}"',
                                             "attributes": "id"}).get_json()
    assert found["totalResults"] == 1
    assert Membership.select().count() == 1


def test_paging_sorting_and_search(api):
    """RFC 7644 §3.4.2.4 (startIndex/count), §3.4.2.3 (sortBy), §3.4.3 (POST /.search)."""
    for name in ("delta", "Alpha", "charlie", "Bravo"):
        api.create_group(name)
    body = api.get("/Groups", query_string={"sortBy": "displayName", "startIndex": 2, "count": 2}).get_json()
    assert (body["totalResults"], body["startIndex"], body["itemsPerPage"]) == (4, 2, 2)
    assert [g["displayName"] for g in body["Resources"]] == ["Bravo", "charlie"]
    pages = [api.get("/Groups", query_string={"startIndex": start, "count": 1}).get_json()["Resources"][0]["id"]
             for start in range(1, 5)]
    assert len(set(pages)) == 4
    search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
              "filter": 'displayName eq "ALPHA"', "excludedAttributes": ["members"]}
    found = api.post("/Groups/.search", search).get_json()
    assert [g["displayName"] for g in found["Resources"]] == ["Alpha"]
    assert api.post("/.search", search).get_json()["totalResults"] == 1


def test_projection(api, make_user):
    """RFC 7644 §3.9: attributes/excludedAttributes; id and schemas are always returned."""
    ann = make_user("ann@acme.example")
    group = api.create_group("Ops", members=[ann.id])
    assert "members" not in api.group(group["id"], excludedAttributes="members")
    assert set(api.group(group["id"], attributes="displayName")) == {"schemas", "id", "displayName"}
    assert api.group(group["id"], attributes="members.value")["members"] == [{"value": ann.id}]


def test_put_replaces_name_external_id_and_members(api, make_user):
    """RFC 7644 §3.5.1: PUT replaces the resource; members become exactly the list sent."""
    ann, bob, cid = make_user("ann@acme.example"), make_user("bob@acme.example"), make_user("cid@acme.example")
    group = api.create_group("Ops", members=[ann.id, bob.id], externalId="old")
    response = api.put(f"/Groups/{group['id']}", {"schemas": [GROUP], "id": group["id"], "displayName": "Ops EMEA",
                                                  "members": [{"value": bob.id}, {"value": cid.id}]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["displayName"] == "Ops EMEA" and "externalId" not in body
    assert {m["value"] for m in body["members"]} == {bob.id, cid.id}
    api.put(f"/Groups/{group['id']}", {"schemas": [GROUP], "displayName": "Ops EMEA"})
    assert api.member_ids(group["id"]) == set()
    assert User.select().count() == 3


def test_delete_removes_the_team_and_memberships_never_users(api, make_user):
    """RFC 7644 §3.6: after DELETE the resource is gone (404); DESIGN.md §3: users stay."""
    ann = make_user("ann@acme.example")
    directory.suspend(ann)
    group = api.create_group("Ops", members=[ann.id])
    assert api.delete(f"/Groups/{group['id']}").status_code == 204
    assert api.get(f"/Groups/{group['id']}").status_code == 404
    assert not Membership.select().exists()
    assert User.get_by_id(ann.id).status == "suspended"


def test_a_suspended_user_stays_a_member(api, make_user):
    """DESIGN.md §3: a suspended user "stays in their teams"."""
    ann = make_user("ann@acme.example")
    group = api.create_group("Ops", members=[ann.id])
    directory.suspend(User.get_by_id(ann.id))
    assert api.member_ids(group["id"]) == {ann.id}
    assert api.ops(f"/Groups/{group['id']}", {"op": "add", "path": "members",
                                               "value": [{"value": ann.id}]}).status_code == 200


def test_etags(api, make_user):
    """RFC 7644 §3.14: If-Match that does not match is 412; If-None-Match that matches is 304."""
    ann = make_user("ann@acme.example")
    group = api.create_group("Ops")
    path = f"/Groups/{group['id']}"
    assert api.get(path, headers={"If-None-Match": 'W/"1"'}).status_code == 304
    added = api.ops(path, {"op": "add", "path": "members", "value": [{"value": ann.id}]},
                    headers={"If-Match": 'W/"1"'})
    assert added.headers["ETag"] == 'W/"2"'
    stale = api.ops(path, {"op": "replace", "path": "displayName", "value": "x"}, headers={"If-Match": 'W/"1"'})
    assert_scim_error(stale, 412, None, "The team 'Ops' has changed since version 1; read it again before changing it")
    assert_scim_error(api.put(path, {"schemas": [GROUP], "displayName": "x"}, headers={"If-Match": '"abc"'}), 412)
    assert_scim_error(api.delete(path, headers={"If-Match": 'W/"1"'}), 412)
    assert api.group(group["id"])["displayName"] == "Ops"
    assert api.delete(path, headers={"If-Match": 'W/"2"'}).status_code == 204


def test_unchanged_values_keep_the_version(api):
    """Okta re-sends the same rename with every membership push: nothing changes."""
    group = api.create_group("Ops")
    for _ in range(2):
        response = api.ops(f"/Groups/{group['id']}", {"op": "replace", "value": {"id": group["id"],
                                                                                  "displayName": "Ops"}})
        assert response.headers["ETag"] == 'W/"1"'


def test_discovery_publishes_groups_and_the_ally_extension(api):
    """RFC 7643 §6, §7: the Group resource type names the Ally extension, /Schemas describes it."""
    group_type = api.get("/ResourceTypes/Group").get_json()
    assert group_type["endpoint"] == "/Groups"
    assert group_type["schemaExtensions"] == [{"schema": ALLY_GROUP, "required": False}]
    extension = api.get(f"/Schemas/{ALLY_GROUP}").get_json()
    parent = extension["attributes"][0]
    assert parent["name"] == "parent" and parent["type"] == "complex"
    assert {sub["name"]: sub["mutability"] for sub in parent["subAttributes"]} == {
        "value": "readWrite", "display": "readOnly", "$ref": "readOnly"}


def test_service_provider_config_states_what_groups_use(api):
    """RFC 7643 §5: PATCH (membership changes), ETags (If-Match compare-and-set), sorting and
    filters are supported, as the /Groups tests show."""
    config = api.get("/ServiceProviderConfig").get_json()
    assert config["patch"] == {"supported": True}
    assert config["etag"] == {"supported": True}
    assert config["sort"] == {"supported": True} and config["filter"]["supported"] is True


def test_teams_made_in_ally_are_groups_too(api, org, make_user):
    ann = make_user("ann@acme.example")
    team = teams.create_team(org, "Made by hand", members=[ann.id])
    body = api.group(team.id)
    assert body["displayName"] == "Made by hand" and [m["value"] for m in body["members"]] == [ann.id]


def test_deleting_a_member_changes_the_groups_version(api, make_user):
    """RFC 7644 §3.14: the version changes whenever the resource does, members included."""
    from connector import deletion

    ann, bob = make_user("ann@acme.example"), make_user("bob@acme.example")
    group = api.create_group("Ops", members=[ann.id, bob.id])
    deletion.scim_delete_user(User.get_by_id(ann.id))
    body = api.group(group["id"])
    assert body["meta"]["version"] == 'W/"2"' and [m["value"] for m in body["members"]] == [bob.id]
