"""The `ally-scim` commands of DESIGN.md §7 for organisations, users, teams, objectives and
the audit trail: output, exit status 0 / 1 (refused) / 2 (usage), and the "cli" actor."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from connector import deletion, managers, teams
from connector.models import AuditEvent, Organisation


def run_json(cli, *args):
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_org_create_list_show_and_set_domains(cli):
    result = cli("org", "create", "Globex Corp", "--domains", "Globex.example,bücher.example",
                 "--outside-domains", "reject", "--skip-invitations", "--admin-groups", "Ally Admins, IT")
    assert result.exit_code == 0, result.output
    assert result.output == "organisation globex-corp created\n"
    listing = cli("org", "list").output
    assert "acme\tAcme Corp\tacme.example\n" in listing
    assert "globex-corp\tGlobex Corp\tglobex.example,xn--bcher-kva.example\n" in listing
    shown = run_json(cli, "org", "show", "Globex Corp")
    assert shown["domains"] == ["globex.example", "xn--bcher-kva.example"]
    assert (shown["outside_domains"], shown["skip_invitations"]) == ("reject", True)
    assert shown["admin_groups"] == ["Ally Admins", "IT"]
    assert shown["users"] == {"invited": 0, "active": 0, "suspended": 0}
    result = cli("org", "set-domains", "globex-corp", "a.example, b.example")
    assert result.output == "organisation globex-corp: auto-join domains a.example, b.example\n"
    assert "outside_domains: reject" in cli("org", "show", "globex-corp").output
    event = AuditEvent.get(AuditEvent.action == "organisation.updated")
    assert event.actor == "cli"


def test_org_refusals_and_usage_errors(cli):
    bad_domain = cli("org", "create", "X", "--domains", "not a domain")
    assert bad_domain.exit_code == 1
    assert "'not a domain' is not a valid domain" in bad_domain.output
    assert cli("org", "create", "X", "--outside-domains", "maybe").exit_code == 2
    long_name = cli("org", "create", "\u0130" * 201)
    assert long_name.exit_code == 1 and "name is longer than 200 characters" in long_name.output
    duplicate = cli("org", "create", "Acme")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    unknown = cli("org", "show", "nope")
    assert unknown.exit_code == 1 and "No organisation named 'nope'" in unknown.output


def test_users_list_json(cli, org, make_user):
    boss, dev = make_user("boss@acme.example"), make_user("dev@outside.example")
    managers.set_manager(dev, boss)
    teams.add_members(teams.create_team(org, "Ally Admins"), [boss.id])
    teams.add_members(teams.create_team(org, "Dev"), [boss.id, dev.id])
    rows = run_json(cli, "users", "list", "--org", "acme")
    by_name = {row["userName"]: row for row in rows}
    contract = ("id", "userName", "email", "status", "admin", "manager", "teams", "pending_deletion", "managed_by_idp")
    assert {key: by_name["boss@acme.example"][key] for key in contract} == {
        "id": boss.id, "userName": "boss@acme.example", "email": "boss@acme.example", "status": "active",
        "admin": True, "manager": None, "teams": ["Ally Admins", "Dev"], "pending_deletion": False,
        "managed_by_idp": False}
    dev_row = by_name["dev@outside.example"]
    assert (dev_row["id"], dev_row["status"], dev_row["admin"], dev_row["manager"], dev_row["teams"]) == (
        dev.id, "invited", False, "boss@acme.example", ["Dev"])
    assert by_name["boss@acme.example"]["designated_manager"] is True
    assert [row["userName"] for row in run_json(cli, "users", "list", "--org", "acme", "--status", "invited")] == [
        "dev@outside.example"]


def test_users_list_text_and_bad_status(cli, make_user):
    make_user("ann@acme.example")
    result = cli("users", "list", "--org", "Acme Corp")
    assert result.exit_code == 0
    assert result.output.startswith("ann@acme.example\tactive\t-\tann@acme.example")
    bad = cli("users", "list", "--org", "acme", "--status", "gone")
    assert bad.exit_code == 2
    assert "'gone' is not one of 'invited', 'active', 'suspended'" in bad.output


def test_objectives_reassign_from_pending_user_then_purge(cli, org, make_user):
    leaver = make_user("leaver@acme.example")
    make_user("heir@acme.example")
    added = cli("objectives", "add", "--org", "acme", "--owner", "LEAVER@acme.example", "Win the quarter")
    assert added.exit_code == 0, added.output
    assert "owned by leaver@acme.example" in added.output
    deletion.scim_delete_user(leaver)
    pending = cli("users", "purge", "--org", "acme")
    assert "still pending deletion: leaver@acme.example owns 1 objective;" in pending.output
    assert run_json(cli, "users", "list", "--org", "acme")[1]["pending_deletion"] is True
    moved = cli("objectives", "reassign", "--org", "acme", "--from", "leaver@acme.example", "--to", "heir@acme.example")
    assert moved.exit_code == 0, moved.output
    assert moved.output == "1 objective reassigned from leaver@acme.example to heir@acme.example\n"
    purged = cli("users", "purge", "--org", "acme")
    assert purged.output == "purged leaver@acme.example\n"
    assert [row["userName"] for row in run_json(cli, "users", "list", "--org", "acme")] == ["heir@acme.example"]
    assert cli("users", "purge", "--org", "acme").output == "nothing to purge\n"


def test_objectives_refusals(cli, make_user):
    missing = cli("objectives", "add", "--org", "acme", "--owner", "ghost@acme.example", "T")
    assert missing.exit_code == 1
    assert "No user 'ghost@acme.example' in this organisation" in missing.output
    assert cli("objectives", "add", "--org", "acme", "T").exit_code == 2


def test_teams_list(cli, org, make_user):
    ann = make_user("ann@acme.example")
    company = teams.create_team(org, "Company")
    eng = teams.create_team(org, "Engineering", parent=company)
    teams.add_members(eng, [ann.id])
    rows = run_json(cli, "teams", "list", "--org", "acme")
    assert [(r["name"], r["parent"], r["members"], r["admin_group"]) for r in rows] == [
        ("Company", None, [], False), ("Engineering", "Company", ["ann@acme.example"], False)]
    assert rows[1]["id"] == eng.id
    assert cli("teams", "list", "--org", "acme").output == "Company (0 members)\n  Engineering (1 members)\n"


def test_audit_command(cli, make_user):
    make_user("ann@acme.example")
    assert cli("org", "set-domains", "acme", "acme.example,beta.example").exit_code == 0
    events = run_json(cli, "audit", "--org", "acme")
    assert [e["action"] for e in events][-2:] == ["user.created", "organisation.updated"]
    assert events[-1]["actor"] == "cli"
    assert run_json(cli, "audit", "--org", "acme", "--since", "2999-01-01T00:00:00Z") == []
    assert len(run_json(cli, "audit", "--org", "acme", "--since", "2000-01-01")) == len(events)
    text = cli("audit", "--org", "acme").output
    assert "\tcli\torganisation.updated\tacme\t" in text
    bad = cli("audit", "--org", "acme", "--since", "yesterday")
    assert bad.exit_code == 2
    assert "'yesterday' is not an ISO 8601 date or time" in bad.output


def test_console_script_as_a_subprocess(config_file, app):
    """The installed `ally-scim` script, run as a separate process with --config."""
    script = Path(sys.executable).with_name("ally-scim")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ALLY_")}

    def run(*args):
        return subprocess.run([str(script), "--config", str(config_file), *args], capture_output=True, text=True,
                              env=env, timeout=60)

    created = run("org", "create", "Initech", "--domains", "initech.example")
    assert created.returncode == 0, created.stderr
    assert created.stdout == "organisation initech created\n"
    shown = json.loads(run("org", "show", "initech", "--json").stdout)
    assert shown["domains"] == ["initech.example"]
    refused = run("users", "purge", "--org", "nowhere")
    assert (refused.returncode, refused.stderr) == (1, "Error: No organisation named 'nowhere'\n")
    assert run("audit", "--org", "initech", "--since", "soon").returncode == 2
    assert Organisation.select().where(Organisation.slug == "initech").exists()


def test_make_admin_and_remove_admin(cli, make_user, org):
    make_user("ann@acme.example")
    granted = cli("users", "make-admin", "--org", "acme", "ann@acme.example")
    assert granted.exit_code == 0, granted.output
    assert "ann@acme.example is an admin" in granted.output
    listed = json.loads(cli("users", "list", "--org", "acme", "--json").output)
    assert listed[0]["admin"] is True
    removed = cli("users", "remove-admin", "--org", "acme", "ANN@acme.example")
    assert "no longer an admin" in removed.output
    unknown = cli("users", "make-admin", "--org", "acme", "nobody@acme.example")
    assert unknown.exit_code == 1
    assert "nobody@acme.example" in unknown.output


@pytest.mark.parametrize("args", [("mail", "list", "--limit", str(2**63)), ("mail", "retry", str(2**70)),
                                  ("token", "revoke", str(2**70)), ("client", "delete-secret", "x", str(2**70)),
                                  ("audit", "prune", "--older-than", "800000"),
                                  ("users", "unmanaged", "--org", "acme", "--stale-days", "800000")])
def test_numbers_no_column_or_date_can_hold_are_usage_errors(cli, org, args):
    """They were tracebacks: an id or a limit past 64 bits, a number of days before year 1."""
    result = cli(*args)
    assert result.exit_code == 2 and "is not in the range" in result.output, result.output
