"""`ally-scim users unmanaged`: the active and invited accounts offboarding in the IdP would miss:
those not provisioned by an IdP, and IdP-managed ones the IdP has not touched for N days."""
import json
from datetime import timedelta

from playhouse.test_utils import count_queries

from connector import audit, deletion, directory, objectives, unmanaged
from connector.clock import utcnow
from connector.models import AuditEvent, User


def idp_user(make_user, name: str, seen_days_ago: int | None):
    user = make_user(name, managed_by_idp=True)
    seen = None if seen_days_ago is None else utcnow() - timedelta(days=seen_days_ago)
    User.update(idp_seen_at=seen).where(User.id == user.id).execute()  # what the SCIM users backend records
    return user


def populate(org, make_user, cli, tmp_path):
    (tmp_path / "new.csv").write_text("email\ncsv@acme.example\ncsv@outside.example\n")
    assert cli("import", "--org", "acme", str(tmp_path / "new.csv")).exit_code == 0
    with audit.acting_as("cli"):
        make_user("hand@outside.example")
    with audit.acting_as("admin:it@acme.example"):
        make_user("admin-made@acme.example")
    directory.suspend(make_user("gone@outside.example"))  # cannot log in: not listed
    leaver = make_user("leaver@acme.example")
    objectives.add_objective(org, leaver, "Grow")
    deletion.scim_delete_user(leaver)  # pending deletion: already gone
    idp_user(make_user, "fresh@acme.example", 3)
    idp_user(make_user, "stale@acme.example", 120)
    idp_user(make_user, "never@acme.example", None)


def test_report_lists_each_account_with_its_reason(org, make_user, cli, tmp_path):
    populate(org, make_user, cli, tmp_path)
    result = cli("users", "unmanaged", "--org", "acme", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["userName"]: row for row in json.loads(result.output)}
    assert list(rows) == ["admin-made@acme.example", "csv@acme.example", "csv@outside.example",
                          "hand@outside.example", "never@acme.example", "stale@acme.example"]
    today = f"{utcnow():%Y-%m-%d}"
    assert {name: (row["status"], row["reason"], row["detail"]) for name, row in rows.items()} == {
        "admin-made@acme.example": ("active", "not_managed_by_idp",
                                    f"not provisioned by an IdP: created by the admin it@acme.example on {today}, "
                                    f"joined directly (auto-join)"),
        "csv@acme.example": ("active", "not_managed_by_idp",
                             f"not provisioned by an IdP: imported from CSV on {today}, joined directly (auto-join)"),
        "csv@outside.example": ("invited", "not_managed_by_idp",
                                f"not provisioned by an IdP: imported from CSV on {today}, invited"),
        "hand@outside.example": ("invited", "not_managed_by_idp",
                                 f"not provisioned by an IdP: created with the ally-scim command line on {today}, "
                                 f"invited"),
        "never@acme.example": ("active", "idp_never_seen", "managed by the IdP, but never changed by it"),
        "stale@acme.example": ("active", "idp_stale",
                               f"managed by the IdP, last changed by it 120 days ago "
                               f"({utcnow() - timedelta(days=120):%Y-%m-%d})"),
    }
    assert rows["stale@acme.example"]["managed_by_idp"] is True
    assert rows["csv@acme.example"]["idp_seen_at"] is None


def test_human_output_counts_and_stale_days(org, make_user, cli, tmp_path):
    populate(org, make_user, cli, tmp_path)
    lines = cli("users", "unmanaged", "--org", "acme").output.splitlines()
    assert lines[0] == ("Acme Corp: 6 accounts that offboarding in the IdP would miss: 4 not provisioned by an IdP, "
                        "2 not changed by the IdP for 90 days (1 never)")
    assert lines[1].startswith("admin-made@acme.example\tactive\tnot provisioned by an IdP: created by the admin")
    assert len(lines) == 7
    longer = cli("users", "unmanaged", "--org", "acme", "--stale-days", "200").output.splitlines()
    assert "1 not changed by the IdP for 200 days (1 never)" in longer[0]
    assert not any(line.startswith("stale@") for line in longer)
    assert cli("users", "unmanaged", "--org", "acme", "--stale-days", "0").exit_code == 2


def test_user_whose_creation_left_no_audit_record(org, make_user):
    user = make_user("old@acme.example")
    AuditEvent.delete().where(AuditEvent.target_id == user.id).execute()  # pruned by retention
    [row] = unmanaged.unmanaged_rows(org, 90)
    assert row["detail"] == "not provisioned by an IdP: origin unknown (no audit record left)"


def test_everyone_managed_and_recent(org, make_user, cli):
    idp_user(make_user, "fresh@acme.example", 1)
    assert cli("users", "unmanaged", "--org", "acme").output == (
        "Acme Corp: 0 accounts that offboarding in the IdP would miss: 0 not provisioned by an IdP, "
        "0 not changed by the IdP for 90 days (0 never)\n")


def test_report_costs_the_same_queries_for_few_and_many(org, make_user):
    make_user("a@acme.example")
    with count_queries() as few:
        unmanaged.unmanaged_rows(org, 90)
    for i in range(30):
        make_user(f"u{i}@outside.example")
    with count_queries() as many:
        assert len(unmanaged.unmanaged_rows(org, 90)) == 31
    assert few.count == many.count
