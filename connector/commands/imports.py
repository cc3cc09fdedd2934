"""`ally-scim import`: bulk invite from a CSV file (connector.csv_import). All or nothing: a file
with any problem is reported line by line on stderr and changes nothing."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from connector import csv_apply, csv_import
from connector.commands import fail, with_app
from connector.organisations import find_organisation


@click.command("import")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.argument("file", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and print what would happen to each user; change nothing.")
@click.option("--team", metavar="TEAM", help="Also add every user to this existing team.")
@click.option("--manager", metavar="EMAIL", help="The manager of every user whose line names none.")
@click.option("--skip-invitations", is_flag=True, help="Invited users get no invitation email.")
@with_app
def import_command(org_name, file: Path, dry_run, team, manager, skip_invitations):
    """Invite the users listed in FILE.csv: columns email (required), first name, last name,
    title, team, manager email."""
    org = find_organisation(org_name)
    plan = csv_import.plan_import(org, _read(file), team=team, manager=manager, skip_invitations=skip_invitations)
    if plan.problems:
        _report_problems(plan, file)
    if dry_run:
        for invitee in plan.invitees:
            click.echo(f"line {invitee.line}: {invitee.email}: {csv_import.describe(plan, invitee)}")
        click.echo(f"dry run: {_summary(csv_import.plan_counts(plan), 'would be imported')}; nothing was changed")
        return
    with _progress(csv_apply.steps(plan)) as advance:
        counts = csv_apply.apply_import(plan, progress=advance, source=file.name)
    click.echo(_summary(counts, "imported"))


def _read(file: Path) -> str:
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        fail(f"{file} is not UTF-8 text (line {line}); save it as \"CSV UTF-8\" and try again")


def _report_problems(plan, file: Path) -> None:
    click.echo(f"Error: nothing was imported: {len(plan.problems)} problem(s) in {file}", err=True)
    for problem in plan.problems:
        click.echo(str(problem), err=True)
    click.get_current_context().exit(1)


@contextmanager
def _progress(total: int):
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    stream = sys.stderr
    if not stream.isatty():
        yield lambda steps: None
        return
    with click.progressbar(length=total, label="Importing", file=stream, show_pos=True) as bar:
        yield bar.update


def _summary(counts: dict, verb: str) -> str:
    users = counts["users"]
    text = (f"{users} user{'s' * (users != 1)} {verb}: {counts['joined']} joining directly, "
            f"{counts['invited_by_email']} invited by email, {counts['invited_without_email']} invited without email")
    return text + f"; {counts['memberships']} team memberships, {counts['managers_set']} managers"
