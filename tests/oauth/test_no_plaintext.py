"""No token, secret, code or password is ever stored, logged or audited in plaintext."""
import logging

from connector.models import AuditEvent
from oauth import clients, hashing
from tests.oauth.helpers import (
    OKTA_REDIRECT,
    PASSWORD,
    acme,
    admin_user,
    basic,
    bearer_token,
    client_credentials_token,
    oauth_client,
    pkce_pair,
    query_of,
    sign_in_and_approve,
)


def every_kind_of_secret(http) -> list[str]:
    """Run every way a secret comes to exist; return them all."""
    secrets = [bearer_token(acme()), PASSWORD]
    admin_user(acme(), "ada@acme.example")
    entra, entra_secret = oauth_client(acme())
    _, _, rotated = clients.rotate_secret(entra.client_id, secret_days=730)
    cc = client_credentials_token(http, entra.client_id, rotated).get_json()
    okta, okta_secret = oauth_client(acme(), "authorization_code", redirect_uris=[OKTA_REDIRECT])
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": okta.client_id, "redirect_uri": OKTA_REDIRECT,
              "scope": "offline_access", "code_challenge": challenge, "code_challenge_method": "S256"}
    code = query_of(sign_in_and_approve(http, params, email="ada@acme.example").location)["code"]
    first = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                            "redirect_uri": OKTA_REDIRECT, "code_verifier": verifier},
                      headers=basic(okta.client_id, okta_secret)).get_json()
    second = http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                       headers=basic(okta.client_id, okta_secret)).get_json()
    http.post("/oauth/revoke", data={"token": second["refresh_token"]}, headers=basic(okta.client_id, okta_secret))
    secrets += [entra_secret, rotated, cc["access_token"], okta_secret, code, verifier, first["access_token"],
                first["refresh_token"], second["access_token"], second["refresh_token"]]
    assert all(secrets)
    return secrets


def dump(database) -> str:
    """Every row of every table, as text."""
    lines = []
    for table in database.get_tables():
        for row in database.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            lines.append(f"{table}: " + " | ".join(str(value) for value in row))
    return "\n".join(lines)


def test_database_holds_no_plaintext_secret(client, db):
    secrets = every_kind_of_secret(client)
    text = dump(db)
    leaked = [secret[:10] + "..." for secret in secrets if secret in text]
    assert leaked == []
    # The dump does cover the credential tables: their hashes are there.
    assert hashing.hash_secret(secrets[0]) in text
    assert "scrypt$" in text


def test_logs_hold_no_secret(client, db, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = every_kind_of_secret(client)
    logged = caplog.text + "\n".join(str(record.args) for record in caplog.records)
    assert [secret[:10] for secret in secrets if secret in logged] == []


def test_audit_trail_records_credentials_without_secrets(client, db):
    every_kind_of_secret(client)
    actions = [event.action for event in AuditEvent.select().order_by(AuditEvent.id)]
    for action in ("token.created", "client.created", "client.secret_added", "oauth.token_issued",
                   "oauth.consent_given", "oauth.tokens_revoked", "admin.password_set"):
        assert action in actions
    issued = AuditEvent.get(AuditEvent.action == "oauth.token_issued")
    assert issued.actor == "client:Entra" and issued.organisation.slug == "acme"
    assert issued.request_id  # the token request's X-Request-Id
    assert issued.changes == {"grant_type": [None, "client_credentials"], "scope": [None, "scim:read scim:write"],
                              "with_refresh": [None, False]}
    consent = AuditEvent.get(AuditEvent.action == "oauth.consent_given")
    assert consent.actor == "admin:ada@acme.example" and consent.target_label == "Okta"


def test_log_redaction_knows_ally_credentials():
    """The last net under the logs: a credential with one of our prefixes is masked wherever it
    appears, even in a Python repr that no key=value pattern catches."""
    from connector.logs import redact

    secret = hashing.new_secret(hashing.PREFIX_ACCESS_TOKEN)
    text = redact(f"Issue token {{'access_token': '{secret}', 'token_type': 'Bearer'}}")
    assert secret not in text and "<redacted>" in text
    for prefix in (hashing.PREFIX_BEARER_TOKEN, hashing.PREFIX_REFRESH_TOKEN, hashing.PREFIX_CLIENT_SECRET,
                   hashing.PREFIX_AUTHORIZATION_CODE):
        secret = hashing.new_secret(prefix)
        assert secret not in redact(f"saw {secret} here")
