"""`ally-scim import`: bulk invite from CSV. Every line is checked first and every problem is
reported with its line number; a file with any problem changes nothing; --dry-run changes
nothing; the import goes through the directory's rules (auto-join, invitations, teams, managers)."""
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from connector import csv_apply, csv_import, directory, teams
from connector.csv_apply import ImportInterrupted
from connector.models import AuditEvent, Invitation, Membership, OutboxMessage, User
from connector.organisations import update_organisation

HEADER = "email,first name,last name,title,team,manager email\n"


def write(tmp_path: Path, text: str, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def state() -> tuple:
    """What an import would change: rows of every table it writes to."""
    return tuple(model.select().count() for model in (User, AuditEvent, OutboxMessage, Invitation, Membership))


def refused_lines(result) -> list[str]:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    return result.stderr.splitlines()


def test_every_kind_of_problem_is_reported_with_its_line_and_nothing_changes(cli, org, make_user, tmp_path):
    make_user("taken@acme.example")
    directory.suspend(make_user("gone@acme.example"))
    teams.create_team(org, "Sales")
    update_organisation(org, outside_domains="reject")
    path = write(tmp_path, HEADER + "\n".join([
        "ok@acme.example,Ok,,,Sales,boss@acme.example",  # 2: fine, its manager is on line 3
        "boss@acme.example,Bo,,,,",  # 3: fine
        "not-an-address,,,,,",  # 4
        "OK@acme.example,,,,,",  # 5
        "taken@acme.example,,,,,",  # 6
        "gone@acme.example,,,,,",  # 7
        "out@elsewhere.example,,,,,",  # 8
        "t@acme.example,,,,Nope,",  # 9
        "m@acme.example,,,,,nobody@acme.example",  # 10
        "a@acme.example,,,,,b@acme.example",  # 11
        "b@acme.example,,,,,a@acme.example",  # 12
        "self@acme.example,,,,,self@acme.example",  # 13
        ",Ann,,,,",  # 14
        "x@acme.example y@acme.example,Xa,,,,",  # 15
        f"long@acme.example,{'n' * 300},,,,",  # 16
        "c@acme.example,,,,,,surplus",  # 17
        "nul\x00@acme.example,,,,S\x00les,",  # 18: PostgreSQL text cannot hold it
    ]) + "\n")
    before = state()
    lines = refused_lines(cli("import", "--org", "acme", str(path)))
    assert lines == [
        f"Error: nothing was imported: 17 problem(s) in {path}",
        "line 4: not-an-address: not a valid email address",
        "line 5: OK@acme.example: already on line 2",
        "line 6: taken@acme.example: A user with the userName 'taken@acme.example' already exists",
        "line 7: gone@acme.example: This account has been suspended",
        "line 8: out@elsewhere.example: The email domain 'elsewhere.example' is not one of this organisation's "
        "domains (acme.example)",
        "line 9: team: No team 'Nope' in this organisation",
        "line 10: manager: No user 'nobody@acme.example' in this organisation",
        "line 11: a@acme.example: b@acme.example cannot be the manager of a@acme.example: a@acme.example is "
        "already above b@acme.example in the management chain",
        "line 12: b@acme.example: a@acme.example cannot be the manager of b@acme.example: b@acme.example is "
        "already above a@acme.example in the management chain",
        "line 13: self@acme.example: self@acme.example cannot be their own manager",
        "line 14: no email address",
        "line 15: 2 addresses share this line, so its first name cannot say whose they are: give each person "
        "their own line",
        "line 16: long@acme.example: given_name is longer than 255 characters",
        "line 17: a value in column 7, which the first line does not name",
        "line 18: a NUL character in column 1",
        "line 18: a NUL character in column 5",
        "line 18: no email address"]
    assert state() == before


def test_problems_of_the_columns_and_of_the_options(cli, org, tmp_path):
    header = write(tmp_path, "Email,Department,E-mail address,\nann@acme.example,HR,ann@acme.example,x\n")
    assert refused_lines(cli("import", "--org", "acme", str(header))) == [
        f"Error: nothing was imported: 3 problem(s) in {header}",
        "line 1: unknown column 'Department' (the columns are: email, first name, last name, title, team, "
        "manager email)",
        "line 1: two columns are 'email' (the second is 'E-mail address')",
        "line 2: a value in column 4, which the first line does not name"]
    no_email = write(tmp_path, "first name,last name\nAnn,Lee\n", "names.csv")
    assert refused_lines(cli("import", "--org", "acme", str(no_email)))[1:] == [
        "line 1: no email column: the first line must name the columns, e.g. "
        "email,first name,last name,title,team,manager email"]
    empty = write(tmp_path, "email\n\n", "empty.csv")
    assert refused_lines(cli("import", "--org", "acme", str(empty)))[1:] == ["the file names no users"]
    fine = write(tmp_path, "email\nann@acme.example\n", "fine.csv")
    options = cli("import", "--org", "acme", str(fine), "--team", "Nope", "--manager", "nobody@acme.example")
    assert refused_lines(options)[1:] == ["--team: No team 'Nope' in this organisation",
                                          "--manager: No user 'nobody@acme.example' in this organisation"]
    assert User.select().count() == 0


def test_file_that_is_not_utf8_or_not_csv(cli, org, tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("email,first name\nren\xe9@acme.example,Ren\xe9\n".encode("latin-1"))
    result = cli("import", "--org", "acme", str(latin))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {latin} is not UTF-8 text (line 2); save it as \"CSV UTF-8\" and try again\n"
    broken = write(tmp_path, 'email,first name\nann@acme.example,"Ann\n', "broken.csv")
    assert refused_lines(cli("import", "--org", "acme", str(broken)))[1:] == [
        "line 2: not readable as CSV: unexpected end of data"]
    assert cli("import", "--org", "acme", str(tmp_path / "missing.csv")).exit_code == 2
    assert cli("import", "--org", "nowhere", str(latin)).stderr == "Error: No organisation named 'nowhere'\n"


def test_dry_run_prints_what_would_happen_and_changes_nothing(cli, org, make_user, tmp_path):
    make_user("lead@acme.example")
    teams.create_team(org, "Sales")
    path = write(tmp_path, HEADER + "ann@acme.example,Ann,Lee,Engineer,Sales,lead@acme.example\n"
                                    "bob@partner.example,,,,,ann@acme.example\n"
                                    "cy@partner.example;di@partner.example,,,,sales,\n")
    before = state()
    result = cli("import", "--org", "acme", str(path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "line 2: ann@acme.example: joins directly (auto-join domain acme.example), team Sales, manager lead@acme.example",
        "line 3: bob@partner.example: invited by email (join link), manager ann@acme.example",
        "line 4: cy@partner.example: invited by email (join link), team Sales",
        "line 4: di@partner.example: invited by email (join link), team Sales",
        "dry run: 4 users would be imported: 1 joining directly, 3 invited by email, 0 invited without email; "
        "3 team memberships, 2 managers; nothing was changed"]
    assert result.stderr == ""
    assert state() == before


def test_import_creates_users_through_the_directory(cli, org, make_user, tmp_path):
    lead = make_user("lead@acme.example")
    sales = teams.create_team(org, "Sales")
    path = write(tmp_path, "Email Address,First_Name,LAST NAME,Job Title,Team Name,Manager's Email\n"
                           "ann@acme.example,Ann,Lee,Engineer,Sales,lead@acme.example\n"
                           "Bob@Partner.example,Bob,,,,ann@acme.example\n")
    result = cli("import", "--org", "acme", str(path))
    assert result.exit_code == 0, result.output
    assert result.output == ("2 users imported: 1 joining directly, 1 invited by email, 0 invited without email; "
                             "1 team memberships, 2 managers\n")  # no progress bar when stderr is not a terminal
    ann = directory.find_user(org, "ann@acme.example")
    bob = directory.find_user(org, "bob@partner.example")
    assert (ann.status, ann.given_name, ann.family_name, ann.title, ann.manager_id) == (
        "active", "Ann", "Lee", "Engineer", lead.id)
    assert (bob.status, bob.user_name, bob.email, bob.manager_id, bob.managed_by_idp) == (
        "invited", "Bob@Partner.example", "Bob@Partner.example", ann.id, False)
    assert teams.member_ids(sales) == [ann.id]
    assert OutboxMessage.get().recipient == "Bob@Partner.example"
    events = list(AuditEvent.select().where(AuditEvent.actor == "csv-import").order_by(AuditEvent.id))
    assert [e.action for e in events] == ["user.created", "user.created", "user.invited", "team.member_added",
                                          "user.manager_changed", "user.manager_changed", "users.imported"]
    assert events[-1].changes == {"file": [None, "people.csv"], "users": [None, 2], "joined": [None, 1],
                                  "invited_by_email": [None, 1], "invited_without_email": [None, 0],
                                  "memberships": [None, 1], "managers_set": [None, 2]}


def test_several_addresses_in_one_cell_share_team_and_manager(cli, org, make_user, tmp_path):
    lead = make_user("lead@acme.example")
    team = teams.create_team(org, "Support")
    path = write(tmp_path, HEADER + '"a@acme.example; b@outside.example c@outside.example,d@acme.example",,,,'
                                    'Support,lead@acme.example\n')
    assert cli("import", "--org", "acme", str(path)).exit_code == 0
    names = ["a@acme.example", "b@outside.example", "c@outside.example", "d@acme.example"]
    users = [directory.find_user(org, name) for name in names]
    assert [u.status for u in users] == ["active", "invited", "invited", "active"]
    assert {u.manager_id for u in users} == {lead.id}
    assert sorted(teams.member_ids(team)) == sorted(u.id for u in users)
    assert all(u.given_name is None for u in users)


def test_team_manager_and_skip_invitation_options(cli, org, make_user, tmp_path):
    lead = make_user("lead@acme.example")
    everyone, sales = teams.create_team(org, "Everyone"), teams.create_team(org, "Sales")
    path = write(tmp_path, HEADER + "boss@acme.example,,,,,\n"
                                    "ann@outside.example,,,,Sales,\n"
                                    "bob@outside.example,,,,,lead@acme.example\n")
    dry = cli("import", "--org", "acme", str(path), "--team", "everyone", "--manager", "boss@acme.example",
              "--skip-invitations", "--dry-run")
    assert dry.stdout.splitlines()[:3] == [
        "line 2: boss@acme.example: joins directly (auto-join domain acme.example), team Everyone",
        "line 3: ann@outside.example: invited, no email (--skip-invitations), team Sales, team Everyone, "
        "manager boss@acme.example",
        "line 4: bob@outside.example: invited, no email (--skip-invitations), team Everyone, manager lead@acme.example"]
    result = cli("import", "--org", "acme", str(path), "--team", "everyone", "--manager", "boss@acme.example",
                 "--skip-invitations")
    assert result.exit_code == 0, result.output
    boss, ann, bob = (directory.find_user(org, n) for n in ("boss@acme.example", "ann@outside.example",
                                                            "bob@outside.example"))
    assert (boss.manager_id, ann.manager_id, bob.manager_id) == (None, boss.id, lead.id)
    assert sorted(teams.member_ids(everyone)) == sorted([boss.id, ann.id, bob.id])
    assert teams.member_ids(sales) == [ann.id]
    assert (ann.status, bob.status) == ("invited", "invited")
    assert OutboxMessage.select().count() == 0 and Invitation.select().count() == 0


def test_organisation_that_skips_invitation_emails(cli, org, tmp_path):
    update_organisation(org, skip_invitations=True)
    path = write(tmp_path, "email\nann@outside.example\n")
    assert cli("import", "--org", "acme", str(path), "--dry-run").stdout.splitlines()[0] == \
        "line 2: ann@outside.example: invited, no email (the organisation skips invitation emails)"
    assert cli("import", "--org", "acme", str(path)).exit_code == 0
    assert OutboxMessage.select().count() == 0


def test_semicolon_separated_file_with_bom_and_multiline_cells(cli, org, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffE-Mail;Title\nann@acme.example;\"Head of\nSales\"\nbad;\n".encode("utf-8"))
    assert refused_lines(cli("import", "--org", "acme", str(path)))[1:] == ["line 4: bad: not a valid email address"]
    path.write_bytes("\ufeffE-Mail;Title\nann@acme.example;\"Head of\nSales\"\n".encode("utf-8"))
    assert cli("import", "--org", "acme", str(path)).exit_code == 0
    assert directory.find_user(org, "ann@acme.example").title == "Head of\nSales"


def test_a_change_made_after_the_check_stops_at_its_batch(org, make_user):
    """Batches already written stay; the message says which lines were imported."""
    text = "email\n" + "".join(f"u{i}@acme.example\n" for i in range(5))
    plan = csv_import.plan_import(org, text)
    assert plan.problems == []
    make_user("u3@acme.example")  # someone else creates line 5's user meanwhile
    with pytest.raises(ImportInterrupted) as caught:
        csv_apply.apply_import(plan, batch=2)
    assert caught.value.message == (
        "the directory changed after the file was checked: A user with the userName 'u3@acme.example' already "
        "exists; the users of the lines before line 4 were imported, none from line 4 on")
    assert sorted(u.user_name for u in User.select()) == ["u0@acme.example", "u1@acme.example", "u3@acme.example"]
    with pytest.raises(Exception) as refused:
        csv_apply.apply_import(csv_import.plan_import(org, "email\nu0@acme.example\n"))
    assert refused.value.message == "the file has 1 problem(s); nothing was imported"


def test_progress_bar_on_a_terminal(app, config_file, tmp_path):
    """On a terminal the import draws a progress bar on stderr, and still succeeds."""
    path = write(tmp_path, "email\n" + "".join(f"p{i}@acme.example\n" for i in range(30)))
    script = Path(sys.executable).with_name("ally-scim")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ALLY_")}
    controller, terminal = pty.openpty()
    process = subprocess.Popen([str(script), "--config", str(config_file), "import", "--org", "acme", str(path)],
                               stdin=terminal, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    screen = _read_all(controller)
    assert process.wait(timeout=60) == 0, screen
    assert "Importing" in screen and "30/30" in screen
    assert "30 users imported: 30 joining directly" in screen
    assert User.select().where(User.user_name.startswith("p")).count() == 30


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the other side closed (EIO on Linux)
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")
