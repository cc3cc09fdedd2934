"""Sub-teams over SCIM: the Ally Group extension's `parent` names the parent group; the parent
must be a team of the organisation and the hierarchy has no cycles (DESIGN.md §3)."""
from connector.models import Team
from connector.organisations import create_organisation
from tests.connector.group_helpers import ALLY_GROUP, GROUP, ScimApi, api  # noqa: F401 - fixture
from tests.helpers import assert_scim_error
from tests.oauth.helpers import bearer_token

BASE = "https://ally.test/scim/v2"


def _child_of(api, name, parent_id):
    return api.create_group(name, **{ALLY_GROUP: {"parent": {"value": parent_id}}})


def test_a_sub_team_names_its_parent(api):
    company = api.create_group("Company")
    eng = _child_of(api, "Engineering", company["id"])
    assert eng["schemas"] == [GROUP, ALLY_GROUP]
    assert eng[ALLY_GROUP] == {"parent": {"value": company["id"], "display": "Company",
                                          "$ref": f"{BASE}/Groups/{company['id']}"}}
    assert Team.get_by_id(eng["id"]).parent_id == company["id"]
    assert "schemas" in company and ALLY_GROUP not in api.group(company["id"])
    found = api.get("/Groups", query_string={"filter": f'{ALLY_GROUP}:parent.value eq "{company["id"]}"'}).get_json()
    assert [group["id"] for group in found["Resources"]] == [eng["id"]]


def test_a_parent_named_in_capitals_is_the_same_group(api):
    """The parent's value names a group id as members' values do: in any case."""
    company = api.create_group("Company")
    eng = _child_of(api, "Engineering", company["id"].upper())
    assert eng[ALLY_GROUP]["parent"]["value"] == company["id"]
    assert Team.get_by_id(eng["id"]).parent_id == company["id"]
    found = api.get("/Groups", query_string={"filter": f'{ALLY_GROUP}:parent.value eq "{company["id"].upper()}"'})
    assert [group["id"] for group in found.get_json()["Resources"]] == [eng["id"]]


def test_unknown_or_foreign_parent_is_refused(api, client):
    foreign = ScimApi(client, bearer_token(create_organisation("Globex", slug="globex"))).create_group("Theirs")
    for parent in ("no-such-group", foreign["id"]):
        response = api.post("/Groups", {"schemas": [GROUP, ALLY_GROUP], "displayName": "Ours",
                                        ALLY_GROUP: {"parent": {"value": parent}}})
        assert_scim_error(response, 400, "invalidValue", f"The parent team '{parent}' is not a team of this organisation")
    assert Team.select().count() == 1


def test_cycles_are_refused_with_the_directory_text(api):
    company = api.create_group("Company")
    eng = _child_of(api, "Engineering", company["id"])
    backend = _child_of(api, "Backend", eng["id"])
    response = api.ops(f"/Groups/{company['id']}", {"op": "replace", "path": f"{ALLY_GROUP}:parent.value",
                                                     "value": backend["id"]})
    assert_scim_error(response, 400, "invalidValue", "'Backend' cannot be the parent team of 'Company': "
                                                     "it is 'Company' itself or one of its sub-teams")
    response = api.ops(f"/Groups/{eng['id']}", {"op": "add", "path": f"{ALLY_GROUP}:parent",
                                                 "value": {"value": eng["id"]}})
    assert_scim_error(response, 400, "invalidValue", "'Engineering' cannot be the parent team of 'Engineering'")
    assert Team.get_by_id(company["id"]).parent_id is None


def test_moving_and_clearing_the_parent(api):
    company, other = api.create_group("Company"), api.create_group("Other")
    eng = _child_of(api, "Engineering", company["id"])
    path = f"/Groups/{eng['id']}"
    moved = api.ops(path, {"op": "replace", "value": {f"{ALLY_GROUP}:parent": {"value": other["id"]}}})
    assert moved.get_json()[ALLY_GROUP]["parent"]["display"] == "Other"
    cleared = api.ops(path, {"op": "remove", "path": f"{ALLY_GROUP}:parent"})
    assert ALLY_GROUP not in cleared.get_json()
    api.ops(path, {"op": "add", "path": ALLY_GROUP, "value": {"parent": {"value": company["id"]}}})
    assert Team.get_by_id(eng["id"]).parent_id == company["id"]
    api.put(path, {"schemas": [GROUP], "displayName": "Engineering"})  # PUT without the extension: top level
    assert Team.get_by_id(eng["id"]).parent_id is None
    api.ops(path, {"op": "add", "path": ALLY_GROUP, "value": {"parent": {"value": company["id"]}}})
    emptied = api.ops(path, {"op": "replace", "path": f"{ALLY_GROUP}:parent.value", "value": ""})
    assert emptied.status_code == 200 and ALLY_GROUP not in emptied.get_json()  # "" is no value (RFC 7643 §2.5)
    assert Team.get_by_id(eng["id"]).parent_id is None


def test_deleting_a_parent_lifts_its_sub_teams(api):
    company = api.create_group("Company")
    eng = _child_of(api, "Engineering", company["id"])
    api.delete(f"/Groups/{company['id']}")
    body = api.group(eng["id"])
    assert ALLY_GROUP not in body and body["meta"]["version"] == 'W/"2"'
