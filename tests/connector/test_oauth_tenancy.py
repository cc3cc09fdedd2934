"""connector.oauth_tenancy: the organisation of a SCIM request comes from its credential only,
and the request acts (in the audit trail) as that credential."""
import pytest
from flask import g, jsonify
from playhouse.test_utils import count_queries

from connector import audit
from connector.models import Organisation
from connector.oauth_tenancy import organisation_of, tenant_of
from oauth import tokens
from tests.oauth.helpers import acme, bearer, bearer_token, client_credentials_token, oauth_client, other_org

GONE = "The organisation this credential belongs to no longer exists."


@pytest.fixture
def config_data(config_data):
    """Without the SCIM rate limiter, whose write of its counts (about once a second) would be
    counted among a request's statements."""
    return {**config_data, "rate_limit": {"enabled": False}}


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


def _long_lived(client, org) -> str:
    return bearer_token(org)


def _access_token(client, org) -> str:
    row, secret = oauth_client(org)
    return client_credentials_token(client, row.client_id, secret).get_json()["access_token"]


@pytest.mark.parametrize("credential", [_long_lived, _access_token])
def test_organisation_gone_means_401(client, db, probe, credential):
    globex = other_org()
    token = credential(client, globex)
    Organisation.delete().where(Organisation.id == globex.id).execute()
    response = client.get(probe, headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["detail"] == GONE
    assert response.headers["Content-Type"] == "application/scim+json"


@pytest.mark.parametrize("credential", [_long_lived, _access_token])
def test_the_credential_and_its_organisation_are_read_in_one_statement(client, db, probe, credential):
    """Every SCIM request reads its credential and the organisation together (oauth.TenantRows):
    on PostgreSQL one round trip, not two."""
    token = credential(client, other_org())
    with count_queries() as counted:
        response = client.get(probe, headers=bearer(token))
    assert response.get_json()["organisation"] == "globex"
    assert counted.count == 1


@pytest.mark.parametrize("credential", [_long_lived, _access_token])
def test_the_organisation_read_with_the_credential_is_the_whole_row(app, client, db, credential):
    """Every field as organisation_of reads it (domains, flags, times), and nothing to save."""

    @app.route("/scim/v2/_row")
    def _row():
        return jsonify(fields=repr(sorted(g.organisation.__data__.items())), dirty=sorted(g.organisation._dirty))

    globex = other_org()
    globex.outside_domains, globex.skip_invitations = "reject", True
    globex.save()
    answer = client.get("/scim/v2/_row", headers=bearer(credential(client, globex))).get_json()
    assert answer == {"fields": repr(sorted(organisation_of(tenant_of(globex)).__data__.items())), "dirty": []}


@pytest.mark.parametrize("written", ["0{id}", "{id}x", " {id}", "+{id}", "{id}.0", "-{id}", "{id}{id}{id}{id}{id}" * 4])
def test_a_tenant_names_an_organisation_by_its_exact_id_only(client, db, probe, written):
    """A tenant is the organisation's id written as tenant_of writes it. SQLite would read
    " 7", "7x" and "+7" as 7, and PostgreSQL refuses to cast text that is not a number: neither
    may let a stray tenant reach an organisation, or fail the request."""
    globex = other_org()
    token = tokens.create_token(written.format(id=globex.id), name="stray")[1]
    response = client.get(probe, headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["detail"] == GONE


def test_scim_root_is_protected(client, db):
    assert client.get("/scim/v2").status_code == 401
    assert client.get("/scim/v2/").status_code == 401
