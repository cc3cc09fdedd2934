"""Reading Users: the filters Okta and Entra send (IDP.md), run in the database inside the
organisation, and a fixed number of queries per page and per user (no query per row)."""
from urllib.parse import quote

import pytest
from playhouse.test_utils import assert_query_count, count_queries

from connector import directory, managers, teams
from connector.models import User
from connector.organisations import find_organisation
from tests.helpers import assert_scim_error


@pytest.fixture
def config_data(config_data):
    """Without the SCIM rate limiter, whose write of its counts (about once a second, not per
    request: connector.scim_rate_limit) is no part of what an operation costs."""
    return {**config_data, "rate_limit": {"enabled": False}}


USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ALLY = "urn:ietf:params:scim:schemas:extension:ally:2.0:User"


def search(scim, filter_text, **params):
    query = "&".join([f"filter={quote(filter_text)}"] + [f"{k}={quote(str(v))}" for k, v in params.items()])
    response = scim.get(f"/Users?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def user_names(listed):
    return [resource["userName"] for resource in listed["Resources"]]


@pytest.fixture
def people(scim, db):
    """Ann (work and home email, title with a %), her manager Bob, and Cy (suspended, invited)."""
    bob = scim.create_user("Bob@Acme.example", externalId="bob", name={"familyName": "Builder"}, displayName="Bob B")
    ann = scim.create_user("Ann.Lee@Acme.example", externalId="Jyoung", title="100% Engineer",
                           emails=[{"value": "Ann.Lee@Acme.example", "type": "work", "primary": True},
                                   {"value": "ann@home.example", "type": "home"}],
                           name={"givenName": "Ann", "familyName": "Jensen"},
                           **{ENTERPRISE: {"department": "R&D", "manager": {"value": bob["id"]}}})
    cy = scim.create_user("cy@partner.example", active=False)
    return {"ann": ann, "bob": bob, "cy": cy}


def test_username_eq_is_case_insensitive_and_keeps_the_stored_case(scim, people):
    """RFC 7643 §4.1.1 userName caseExact false; RFC 7644 §3.4.2.2: attribute names and
    operators are case-insensitive (Okta's SPEC test; IDP.md #10, #11)."""
    assert user_names(search(scim, 'userName eq "ANN.LEE@acme.EXAMPLE"')) == ["Ann.Lee@Acme.example"]
    assert user_names(search(scim, 'USERNAME Eq "ann.lee@acme.example"')) == ["Ann.Lee@Acme.example"]
    assert search(scim, 'userName eq "3f7c1d52-9b7e-4c1a-a2e4-6d0b8f5e9c21"')["totalResults"] == 0


def test_external_id_eq_is_exact(scim, people):
    """RFC 7643 §3.1 externalId caseExact true (Entra matches on mailNickname)."""
    assert user_names(search(scim, 'externalId eq "Jyoung"')) == ["Ann.Lee@Acme.example"]
    assert search(scim, 'externalId eq "jyoung"')["totalResults"] == 0


def test_emails_value_paths(scim, people):
    """Entra: emails[type eq "work"].value eq "..." (case-insensitive, RFC 7643 §4.1.2)."""
    work = search(scim, 'emails[type eq "work"].value eq "ann.lee@acme.example"')
    assert user_names(work) == ["Ann.Lee@Acme.example"]
    assert search(scim, 'emails[type eq "work"].value eq "ann@home.example"')["totalResults"] == 0
    assert user_names(search(scim, 'emails[type eq "home" and value co "@HOME"]')) == ["Ann.Lee@Acme.example"]
    assert user_names(search(scim, 'emails.value ew "home.example"')) == ["Ann.Lee@Acme.example"]


def test_entra_manager_reference_check(scim, people):
    """Entra asks `id eq "x" and manager eq "y"` with attributes=id before changing a manager."""
    ann, bob = people["ann"], people["bob"]
    hit = search(scim, f'id eq "{ann["id"]}" and manager eq "{bob["id"]}"', attributes="id")
    assert hit["Resources"] == [{"schemas": [USER], "id": ann["id"]}]
    miss = search(scim, f'id eq "{bob["id"]}" and manager eq "{ann["id"]}"', attributes="id")
    assert (miss["totalResults"], miss["Resources"]) == (0, [])
    in_capitals = search(scim, f'id eq "{ann["id"]}" and manager eq "{bob["id"].upper()}"', attributes="id")
    assert in_capitals["totalResults"] == 1  # manager.value is caseExact false (RFC 7643 §4.3)


def test_other_attributes(scim, people):
    assert user_names(search(scim, f'{ENTERPRISE}:department eq "r&d"')) == ["Ann.Lee@Acme.example"]
    assert user_names(search(scim, f'{ENTERPRISE}:manager.displayName eq "BOB B"')) == ["Ann.Lee@Acme.example"]
    assert user_names(search(scim, "active eq false")) == ["cy@partner.example"]
    assert user_names(search(scim, f'{ALLY}:status eq "invited"')) == []
    assert user_names(search(scim, 'name.familyName sw "jen" or name.familyName eq "builder"', sortBy="userName")) == [
        "Ann.Lee@Acme.example", "Bob@Acme.example"]
    assert user_names(search(scim, 'title co "0%"')) == ["Ann.Lee@Acme.example"]
    assert search(scim, 'title co "0_"')["totalResults"] == 0
    later = f'meta.created gt "{people["ann"]["meta"]["created"]}" and userName sw "cy"'
    assert search(scim, later)["totalResults"] == 1


def test_unknown_attribute_is_invalid_filter(scim, people):
    response = scim.get(f"/Users?filter={quote('shoeSize eq 42')}")
    assert_scim_error(response, 400, "invalidFilter")


def test_sort_and_stable_pages(scim, people):
    """RFC 7644 §3.4.2.3/§3.4.2.4: sortBy, and pages that neither repeat nor skip users."""
    ordered = scim.get("/Users?sortBy=userName&sortOrder=descending").get_json()
    assert user_names(ordered) == ["cy@partner.example", "Bob@Acme.example", "Ann.Lee@Acme.example"]
    pages = [user_names(scim.get(f"/Users?startIndex={start}&count=2").get_json()) for start in (1, 3)]
    assert sorted(pages[0] + pages[1]) == sorted(user_names(ordered)) and len(pages[1]) == 1


def populate(org, count: int) -> list[str]:
    """Users who each have a manager, two teams and three values (so a per-row query shows)."""
    boss = directory.create_user(org, {"user_name": "boss@acme.example", "display_name": "Boss"})
    sales, ops = teams.create_team(org, "Sales"), teams.create_team(org, "Ops")
    ids = []
    for i in range(count):
        user = directory.create_user(org, {"user_name": f"user{i:03d}@acme.example"}, values={
            "emails": [{"value": f"user{i:03d}@acme.example", "type": "work", "primary": True},
                       {"value": f"u{i}@home.example", "type": "home"}],
            "phoneNumbers": [{"value": f"+1 555 01{i:02d}", "type": "work"}]}, managed_by_idp=True)
        managers.set_manager(user, boss)
        ids.append(user.id)
    teams.add_members(sales, ids)
    teams.add_members(ops, ids)
    return ids


def test_a_page_of_fifty_costs_what_a_page_of_one_costs(scim, db):
    populate(find_organisation("acme"), 50)
    with count_queries() as one:
        page = scim.get('/Users?filter=userName sw "user"&count=1').get_json()
    assert page["itemsPerPage"] == 1 and page["Resources"][0]["groups"]
    with assert_query_count(one.count):
        page = scim.get('/Users?filter=userName sw "user"&count=50').get_json()
    assert page["itemsPerPage"] == 50
    assert all(r[ENTERPRISE]["manager"]["displayName"] == "Boss" and len(r["groups"]) == 2 and len(r["emails"]) == 2
               for r in page["Resources"])


def test_get_costs_the_same_whatever_the_user_holds(scim, db):
    ids = populate(find_organisation("acme"), 2)
    small = scim.create_user("small@acme.example",
                             **{ENTERPRISE: {"manager": {"value": ids[0]}}})
    with count_queries() as plain:
        scim.get(f"/Users/{small['id']}")
    with assert_query_count(plain.count):
        full = scim.get(f"/Users/{ids[1]}").get_json()
    assert len(full["groups"]) == 2 and len(full["emails"]) == 2 and len(full["phoneNumbers"]) == 1


def test_attributes_id_loads_no_values(scim, db):
    """Entra's reference checks ask for attributes=id: nothing but the users is read."""
    populate(find_organisation("acme"), 3)
    with count_queries() as ids_only:
        scim.get("/Users?attributes=id")
    with count_queries() as everything:
        scim.get("/Users")
    assert everything.count - ids_only.count == 2  # values and teams in one statement, managers


def test_a_username_lookup_reads_the_user_as_a_get_does(scim, db):
    """The IdPs' check before every create (`userName eq`) reads the user's row in one
    statement, as a GET by id does: the lookup costs what the GET costs."""
    ids = populate(find_organisation("acme"), 2)
    with count_queries() as get:
        found = scim.get(f"/Users/{ids[1]}").get_json()
    with assert_query_count(get.count):
        page = scim.get(f'/Users?filter=userName eq "{found["userName"].upper()}"').get_json()
    assert page["totalResults"] == 1 and page["Resources"][0] == found
    with assert_query_count(get.count - 2):  # nobody found: no values and teams, no manager name to read
        assert scim.get('/Users?filter=userName eq "nobody@acme.example"').get_json()["totalResults"] == 0


def test_a_create_answers_with_the_values_it_wrote_without_reading_them_back(scim, db):
    """What an IdP's POST stores is what the 201 shows: the values are written, not read again
    (one statement fewer in every create of an initial sync)."""
    emails = [{"value": "Full@Acme.example", "type": "work", "primary": True}, {"value": "f@home.example"}]
    with count_queries() as create:
        created = scim.create_user("full@acme.example", emails=emails, phoneNumbers=[{"value": "+1 555", "type": "work"}])
    assert created["emails"] == emails and created["phoneNumbers"] == [{"value": "+1 555", "type": "work"}]
    sent = [record.msg[0] for record in create.get_queries()]
    assert [sql for sql in sent if 'INTO "user_value"' in sql]
    assert not [sql for sql in sent if 'FROM "user_value"' in sql], sent


@pytest.mark.parametrize("operations, more_reads", [
    ([{"op": "Replace", "path": "active", "value": "False"}], 0),  # Entra's deprovisioning
    ([{"op": "replace", "value": {"title": "Lead"}}], 0),
    # the values read anew for the answer (the directory's audit diff takes the ones read before)
    ([{"op": "add", "path": "phoneNumbers", "value": [{"value": "+1 555 0199", "type": "mobile"}]}], 1),
    # the new name's uniqueness check; the email still comes from the stored emails
    ([{"op": "replace", "path": "userName", "value": "renamed@acme.example"}], 1),
])
def test_a_patch_answers_with_the_teams_read_with_the_values(scim, db, operations, more_reads):
    """A change of a user never changes its teams (`groups` is readOnly): they are read with
    its values before the change, in one statement, and none is read again for the answer.
    The answer is what a GET gives afterwards."""
    user_id = populate(find_organisation("acme"), 1)[0]
    with count_queries() as get:
        before = scim.get(f"/Users/{user_id}").get_json()
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations}
    with count_queries() as patch:
        answer = scim.patch(f"/Users/{user_id}", body)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == scim.get(f"/Users/{user_id}").get_json()
    assert [group["display"] for group in answer.get_json()["groups"]] == ["Ops", "Sales"]
    assert answer.get_json()["emails"] == before["emails"]
    assert User.get_by_id(user_id).email == before["emails"][0]["value"]
    assert _reads(patch) == _reads(get) + more_reads


def _reads(counted) -> int:
    """SELECTs counted (the writes of a change are not the point here)."""
    return sum(1 for record in counted.get_queries() if record.msg[0].lstrip("(").upper().startswith("SELECT"))


def test_a_put_answers_with_the_teams_read_with_the_values(scim, db):
    """PUT goes the same way as PATCH (scim_users._change): the teams are read once."""
    user_id = populate(find_organisation("acme"), 1)[0]
    with count_queries() as get:
        current = scim.get(f"/Users/{user_id}").get_json()
    replacement = {key: value for key, value in current.items() if key not in ("id", "meta", "groups")}
    replacement["title"] = "Lead"
    with count_queries() as put:
        answer = scim.put(f"/Users/{user_id}", replacement)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == scim.get(f"/Users/{user_id}").get_json()
    assert answer.get_json()["title"] == "Lead" and len(answer.get_json()["groups"]) == 2
    assert _reads(put) == _reads(get)
