"""connector.oauth_tenancy: the organisation of a SCIM request comes from its credential only,
and the request acts (in the audit trail) as that credential."""
import pytest
from flask import g, jsonify

from connector import audit
from connector.models import Organisation
from tests.oauth.helpers import acme, bearer, bearer_token, client_credentials_token, oauth_client, other_org


@pytest.fixture
def probe(app):
    """A route under /scim/v2 that reports what the credential check set up (the SCIM views
    are built elsewhere; this stands where they will)."""

    @app.route("/scim/v2/_probe", methods=["GET", "POST"])
    def _probe():
        return jsonify(organisation=g.organisation.slug, credential=g.credential_name, scopes=list(g.scopes),
                       actor=audit.current_actor(), request_id=audit.current_request_id())

    return "/scim/v2/_probe"


def test_long_lived_token_sets_its_organisation(client, db, probe):
    globex = other_org()
    token = bearer_token(globex, name="Okta")
    response = client.get(probe, headers={**bearer(token), "X-Request-Id": "req-42"})
    assert response.get_json() == {"organisation": "globex", "credential": "token:Okta",
                                   "scopes": ["scim:read", "scim:write"], "actor": "token:Okta",
                                   "request_id": "req-42"}


def test_access_token_sets_its_organisation(client, db, probe):
    globex = other_org()
    row, secret = oauth_client(globex, name="Entra")
    access = client_credentials_token(client, row.client_id, secret, scope="scim:read").get_json()["access_token"]
    answer = client.get(probe, headers=bearer(access)).get_json()
    assert {key: answer[key] for key in ("organisation", "credential", "scopes", "actor")} == {
        "organisation": "globex", "credential": "client:Entra", "scopes": ["scim:read"], "actor": "client:Entra"}


def test_tokens_of_two_organisations_stay_apart(client, db, probe):
    """However the request is shaped, a token reaches its own organisation and no other."""
    acme_token = bearer_token(acme(), name="acme-idp")
    globex_token = bearer_token(other_org(), name="globex-idp")
    assert client.get(probe, headers=bearer(acme_token)).get_json()["organisation"] == "acme"
    assert client.get(probe, headers=bearer(globex_token)).get_json()["organisation"] == "globex"
    sneaky = client.get(probe + "?organisation=acme", headers={**bearer(globex_token), "X-Organisation": "acme"})
    assert sneaky.get_json()["organisation"] == "globex"


def test_actor_is_reset_after_the_request(client, db, probe):
    client.get(probe, headers=bearer(bearer_token(acme())))
    assert audit.current_actor() == "system"


def test_organisation_gone_means_401(client, db, probe):
    globex = other_org()
    token = bearer_token(globex)
    Organisation.delete().where(Organisation.id == globex.id).execute()
    response = client.get(probe, headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["detail"] == "The organisation this credential belongs to no longer exists."
    assert response.headers["Content-Type"] == "application/scim+json"


def test_scim_root_is_protected(client, db):
    assert client.get("/scim/v2").status_code == 401
    assert client.get("/scim/v2/").status_code == 401
