"""A create's 201 shows the multi-valued attributes as they were just written, without reading
them back (connector.user_values.as_read): for any values an IdP may send, the answer is what a
GET of the user then returns, byte for byte of JSON."""
from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
SIMPLE = {"value": TEXT, "display": TEXT, "type": st.sampled_from(["work", "home", "other", "", "Work"]),
          "primary": st.booleans()}
ADDRESS = {"formatted": TEXT, "streetAddress": TEXT, "locality": TEXT, "region": TEXT, "postalCode": TEXT,
           "country": st.sampled_from(["US", "DE", ""]), "type": st.sampled_from(["work", "home"]),
           "primary": st.booleans()}


def elements(fields: dict) -> st.SearchStrategy[list]:
    """Lists of elements holding any of the fields, a null among them now and then."""
    element = st.fixed_dictionaries({}, optional={name: st.one_of(st.none(), value) if name != "primary" else value
                                                  for name, value in fields.items()})
    return st.lists(element, max_size=3)


VALUES = st.fixed_dictionaries({}, optional={
    "emails": elements(SIMPLE), "phoneNumbers": elements(SIMPLE), "ims": elements(SIMPLE),
    "photos": elements(SIMPLE), "entitlements": elements(SIMPLE), "x509Certificates": elements(SIMPLE),
    "addresses": elements(ADDRESS)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(values=VALUES)
def test_the_create_answer_is_what_a_get_then_returns(scim, db, values):
    created = scim.post("/Users", {"schemas": [USER], "userName": f"gen-{uuid.uuid4().hex}@acme.example", **values})
    if created.status_code != 201:
        # values the schema refuses (a primary on two emails, ...), or an email address an
        # earlier example's user already has (Ally's addresses are unique)
        assert created.status_code in (400, 409), created.get_json()
        return
    read = scim.get(f"/Users/{created.get_json()['id']}")
    assert read.status_code == 200
    assert read.get_json() == created.get_json()
    assert read.headers["ETag"] == created.headers["ETag"]
