"""`ally-scim token`, `client`, `admin set-password` and `init --demo-token` (DESIGN.md §7)."""
import json

import pytest

from connector.models import AuditEvent, User
from connector.organisations import find_organisation
from oauth.hashing import hash_secret, verify_password
from oauth.models import BearerToken, Client, ClientSecret
from tests.oauth.helpers import OKTA_REDIRECT, PASSWORD, bearer


def test_token_create_prints_the_token_alone(cli, client):
    result = cli("token", "create", "--org", "acme", "--name", "Okta")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("allyt_") and "\n" not in token
    assert client.get("/scim/v2/Users", headers=bearer(token)).status_code not in (401, 403)
    assert BearerToken.get().token_hash == hash_secret(token)


def test_token_create_json(cli):
    result = cli("token", "create", "--org", "Acme Corp", "--scope", "scim:read", "--expires-in", "30", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"id", "token", "name", "scopes", "expires_at"}
    assert data["scopes"] == ["scim:read"] and data["name"] == "scim"
    assert data["expires_at"].endswith("Z")
    row = BearerToken.get_by_id(data["id"])
    assert (row.expires_at - row.created_at).days == 30


@pytest.mark.parametrize("args,message", [
    (["--scope", "scim:admin"], "unknown scope scim:admin"),
    (["--scope", ""], "at least one scope is needed"),
    (["--expires-in", "0"], "--expires-in"),
])
def test_token_create_usage_errors(cli, args, message):
    result = cli("token", "create", "--org", "acme", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_token_create_unknown_org(cli):
    result = cli("token", "create", "--org", "nope")
    assert result.exit_code == 1
    assert "No organisation named 'nope'" in result.stderr


def test_token_list_never_shows_the_token(cli):
    token = cli("token", "create", "--org", "acme", "--name", "Okta").stdout.strip()
    listed = cli("token", "list", "--org", "acme")
    assert listed.exit_code == 0
    assert "Okta" in listed.stdout and "active" in listed.stdout
    as_json = cli("token", "list", "--org", "acme", "--json")
    rows = json.loads(as_json.stdout)
    assert rows[0]["name"] == "Okta" and rows[0]["status"] == "active"
    for output in (listed.output, as_json.output):
        assert token not in output and token[6:16] not in output


def test_token_revoke(cli, client):
    data = json.loads(cli("token", "create", "--org", "acme", "--json").stdout)
    result = cli("token", "revoke", str(data["id"]))
    assert result.exit_code == 0 and f"Token {data['id']} (scim) revoked." in result.stdout
    assert client.get("/scim/v2/Users", headers=bearer(data["token"])).status_code == 401
    assert "already revoked" in cli("token", "revoke", str(data["id"])).stdout
    assert "revoked" in json.loads(cli("token", "list", "--org", "acme", "--json").stdout)[0]["status"]
    missing = cli("token", "revoke", "999")
    assert missing.exit_code == 1 and "No token with id 999" in missing.stderr


def test_token_commands_are_audited_as_cli(cli):
    data = json.loads(cli("token", "create", "--org", "acme", "--name", "Okta", "--json").stdout)
    cli("token", "revoke", str(data["id"]))
    events = list(AuditEvent.select().where(AuditEvent.target_type == "token").order_by(AuditEvent.id))
    assert [(e.action, e.actor, e.target_label) for e in events] == [
        ("token.created", "cli", "Okta"), ("token.revoked", "cli", "Okta")]


def test_client_create_client_credentials_json(cli, client):
    result = cli("client", "create", "--org", "acme", "--grant", "client_credentials", "--name", "Entra", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["client_secret"].startswith("allys_")
    assert data["token_endpoint"] == "https://ally.test/oauth/token"
    assert data["scim_base_url"] == "https://ally.test/scim/v2"
    assert data["grant"] == "client_credentials" and data["scopes"] == ["scim:read", "scim:write"]
    token = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": data["client_id"],
                                              "client_secret": data["client_secret"]})
    assert token.status_code == 200
    assert ClientSecret.get().secret_hash == hash_secret(data["client_secret"])


def test_client_create_authorization_code(cli):
    result = cli("client", "create", "--org", "acme", "--grant", "authorization_code",
                 "--redirect-uri", OKTA_REDIRECT, "--redirect-uri", OKTA_REDIRECT.replace("okta.com", "okta-emea.com"))
    assert result.exit_code == 0, result.output
    assert "authorization_endpoint:  https://ally.test/oauth/authorize" in result.stdout
    assert "client_secret:           allys_" in result.stdout
    assert Client.get().redirect_uri_list == [OKTA_REDIRECT, OKTA_REDIRECT.replace("okta.com", "okta-emea.com")]


@pytest.mark.parametrize("args,message", [
    (["--grant", "authorization_code"], "An authorization_code client needs at least one --redirect-uri"),
    (["--grant", "client_credentials", "--redirect-uri", OKTA_REDIRECT],
     "Redirect URIs only apply to authorization_code clients"),
    (["--grant", "authorization_code", "--redirect-uri", "okta.com/callback"],
     "Redirect URI 'okta.com/callback' must be an absolute http(s) URI"),
    (["--grant", "authorization_code", "--redirect-uri", OKTA_REDIRECT + "#x"],
     f"Redirect URI '{OKTA_REDIRECT}#x' must not contain a fragment"),
])
def test_client_create_refusals(cli, args, message):
    result = cli("client", "create", "--org", "acme", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert not Client.select().exists()


def test_client_create_needs_a_known_grant(cli):
    result = cli("client", "create", "--org", "acme", "--grant", "password")
    assert result.exit_code == 2


def test_client_rotate_list_and_delete_secret(cli, client):
    data = json.loads(cli("client", "create", "--org", "acme", "--grant", "client_credentials", "--json").stdout)
    rotated = cli("client", "rotate-secret", data["client_id"])
    assert rotated.exit_code == 0, rotated.output
    new_secret = rotated.stdout.strip()
    assert new_secret.startswith("allys_") and new_secret != data["client_secret"]
    listed = cli("client", "list", "--org", "acme", "--json")
    secrets = json.loads(listed.stdout)[0]["secrets"]
    assert [s["status"] for s in secrets] == ["active", "active"]
    assert data["client_secret"] not in listed.output and new_secret not in listed.output
    assert data["client_secret"] not in cli("client", "list", "--org", "acme").output
    deleted = cli("client", "delete-secret", data["client_id"], str(data["secret_id"]))
    assert deleted.exit_code == 0, deleted.output
    for secret, status in ((data["client_secret"], 401), (new_secret, 200)):
        response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                     "client_id": data["client_id"], "client_secret": secret})
        assert response.status_code == status
    last = json.loads(cli("client", "list", "--org", "acme", "--json").stdout)[0]["secrets"][0]["id"]
    refused = cli("client", "delete-secret", data["client_id"], str(last))
    assert refused.exit_code == 1
    assert f"Secret {last} is the only active secret of client {data['client_id']}" in refused.stderr


def test_client_commands_name_missing_things(cli):
    assert "No client with client_id nope" in cli("client", "rotate-secret", "nope").stderr
    data = json.loads(cli("client", "create", "--org", "acme", "--grant", "client_credentials", "--json").stdout)
    missing = cli("client", "delete-secret", data["client_id"], "99")
    assert missing.exit_code == 1 and f"Client {data['client_id']} has no secret with id 99" in missing.stderr


def test_client_secret_expiry_follows_config(config_data, request):
    config_data["oauth"] = {"client_secret_days": 365}
    cli = request.getfixturevalue("cli")
    data = json.loads(cli("client", "create", "--org", "acme", "--grant", "client_credentials", "--json").stdout)
    secret = ClientSecret.get_by_id(data["secret_id"])
    assert (secret.expires_at - secret.created_at).days == 365


def make_admin(email="ada@acme.example", is_admin=True, org="acme"):
    from tests.oauth.helpers import admin_user

    return admin_user(find_organisation(org), email, password=None, is_admin=is_admin)


def test_admin_set_password_from_stdin(cli, db):
    user = make_admin()
    result = cli("admin", "set-password", "ADA@acme.example", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    stored = User.get_by_id(user.id).password_hash
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    assert verify_password(PASSWORD, stored)


def test_admin_set_password_prompts_twice(cli, db):
    user = make_admin()
    result = cli("admin", "set-password", "ada@acme.example", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert verify_password(PASSWORD, User.get_by_id(user.id).password_hash)


def test_admin_set_password_refusals(cli, db):
    make_admin("bob@acme.example", is_admin=False)
    make_admin()
    not_admin = cli("admin", "set-password", "bob@acme.example", "--password-stdin", input=PASSWORD)
    assert not_admin.exit_code == 1 and "bob@acme.example is not an admin of Acme Corp" in not_admin.stderr
    short = cli("admin", "set-password", "ada@acme.example", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "The password needs at least 12 characters" in short.stderr
    nobody = cli("admin", "set-password", "nobody@acme.example", "--password-stdin", input=PASSWORD)
    assert nobody.exit_code == 1 and "No user with the email nobody@acme.example" in nobody.stderr


def test_admin_group_members_are_admins(cli, db):
    from connector import teams

    user = make_admin(is_admin=False)
    team = teams.create_team(user.organisation, "Ally Admins")
    teams.add_members(team, [user.id])
    result = cli("admin", "set-password", "ada@acme.example", "--password-stdin", input=PASSWORD)
    assert result.exit_code == 0, result.output


def test_admin_in_two_organisations_needs_org(cli, db):
    from connector import organisations

    organisations.create_organisation("Globex", slug="globex", domains=["acme.example"])
    make_admin()
    make_admin(org="globex")
    ambiguous = cli("admin", "set-password", "ada@acme.example", "--password-stdin", input=PASSWORD)
    assert ambiguous.exit_code == 1
    assert "ada@acme.example is a user of several organisations (acme, globex); name one with --org" in ambiguous.stderr
    chosen = cli("admin", "set-password", "ada@acme.example", "--org", "globex", "--password-stdin", input=PASSWORD)
    assert chosen.exit_code == 0, chosen.output


def test_init_demo_token_once(cli, client):
    first = cli("init", "--demo-token")
    assert first.exit_code == 0, first.output
    assert "SCIM base URL: https://ally.test/scim/v2" in first.stdout
    token = BearerToken.get(BearerToken.name == "demo")
    line = next(line for line in first.stdout.splitlines() if "curl" in line)
    plaintext = line.split("Bearer ")[1].split('"')[0]
    assert token.token_hash == hash_secret(plaintext)
    assert line.strip() == f'curl -H "Authorization: Bearer {plaintext}" https://ally.test/scim/v2/ServiceProviderConfig'
    assert client.get("/scim/v2/ServiceProviderConfig", headers=bearer(plaintext)).status_code not in (401, 403)
    second = cli("init", "--demo-token")
    assert second.exit_code == 0
    assert "A demo token for acme exists already" in second.stdout
    assert "ally-scim token create --org acme --name demo" in second.stdout
    assert plaintext not in second.stdout
    assert BearerToken.select().count() == 1


def test_init_demo_token_after_revocation_makes_a_new_one(cli):
    cli("init", "--demo-token")
    cli("token", "revoke", str(BearerToken.get().id))
    again = cli("init", "--demo-token")
    assert "curl -H" in again.stdout and BearerToken.select().count() == 2
