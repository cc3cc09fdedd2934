"""An IdP connection's own "Skip Invitation Email" (issue 6), kept per credential."""
import json

from connector import integrations
from connector.models import AuditEvent


def test_token_created_with_skip_invitations(cli, db):
    created = json.loads(cli("token", "create", "--org", "acme", "--name", "Okta", "--skip-invitations",
                             "--json").output)
    listed = json.loads(cli("token", "list", "--org", "acme", "--json").output)
    assert listed[0]["id"] == created["id"] and listed[0]["skip_invitations"] is True
    assert integrations.skip_flags([f"token:{created['id']}"]) == {f"token:{created['id']}": True}


def test_set_invitations_toggles_and_is_audited(cli, db):
    token_id = json.loads(cli("token", "create", "--org", "acme", "--json").output)["id"]
    skipped = cli("token", "set-invitations", str(token_id), "skip")
    assert skipped.exit_code == 0, skipped.output
    assert "invitation emails skipped" in skipped.output
    assert "skips invitation emails" in cli("token", "list", "--org", "acme").output
    cli("token", "set-invitations", str(token_id), "send")
    assert json.loads(cli("token", "list", "--org", "acme", "--json").output)[0]["skip_invitations"] is False
    events = [(e.action, e.changes) for e in AuditEvent.select().where(AuditEvent.action == "integration.updated")
              .order_by(AuditEvent.id)]
    assert events == [("integration.updated", {"skip_invitations": [False, True]}),
                      ("integration.updated", {"skip_invitations": [True, False]})]


def test_client_skip_invitations(cli, db):
    created = json.loads(cli("client", "create", "--org", "acme", "--grant", "client_credentials",
                             "--skip-invitations", "--json").output)
    assert json.loads(cli("client", "list", "--org", "acme", "--json").output)[0]["skip_invitations"] is True
    result = cli("client", "set-invitations", created["client_id"], "send")
    assert result.exit_code == 0, result.output
    assert json.loads(cli("client", "list", "--org", "acme", "--json").output)[0]["skip_invitations"] is False


def test_unknown_credentials_and_choices_are_refused(cli, db):
    assert cli("token", "set-invitations", "999", "skip").exit_code == 1
    assert cli("client", "set-invitations", "nope", "skip").exit_code == 1
    assert cli("token", "set-invitations", "1", "maybe").exit_code == 2
