"""Bulk invite from a CSV file (`ally-scim import`), in place of "email us for a bulk invite":
the check. Every line is checked against the directory's rules before anything changes, and
every problem is reported with its line number; a file with any problem changes nothing. The
plan that comes out says what happens to each user; connector.csv_apply carries it out.

A line's email cell may hold several addresses (separated by semicolons, commas or spaces, as
in Ally's invite box): each becomes a user with that line's team and manager. First name, last
name and title belong to one person, so such a line must leave them empty.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from connector import autojoin, directory, invitations, teams
from connector.csv_format import LABELS, PERSONAL, Line, address_problem, read_sheet, split_addresses
from connector.domains import email_domain
from connector.errors import AllyError, ManagerCycle
from connector.limits import check_text
from connector.models import User

JOINS, INVITED = "joins", "invited"  # what create_user does: auto-join, or invite


@dataclass
class Invitee:
    """One user the file asks for."""

    line: int
    email: str
    attrs: dict
    team_names: list[str]
    manager: str | None  # as written: an address, userName or id
    teams: list = field(default_factory=list)
    outcome: str = ""  # JOINS or INVITED

    @property
    def key(self) -> str:
        return self.email.lower()


@dataclass(frozen=True)
class Problem:
    line: int | None  # None: a problem of an option, not of a line
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text}" if self.line else self.text


@dataclass
class Plan:
    organisation: object
    invitees: list[Invitee]
    problems: list[Problem]
    skip_invitations: bool = False
    # managers who are users already, by the text naming them (lower-cased); the refusal if unknown
    existing_managers: dict[str, User | AllyError] = field(default_factory=dict)


def plan_import(org, text: str, *, team: str | None = None, manager: str | None = None,
                skip_invitations: bool = False) -> Plan:
    """Read and check the whole file; nothing is changed. The plan lists the users to create
    and what happens to each, or the problems (with line numbers) that stop the import."""
    sheet = read_sheet(text)
    plan = Plan(org, [], [Problem(number, problem) for number, problem in sheet.problems], skip_invitations)
    for line in sheet.lines:
        plan.invitees += _invitees_of(line, plan.problems)
    if not plan.invitees and not plan.problems:
        plan.problems.append(Problem(None, "the file names no users"))
    _drop_repeats(plan)
    _check_users(plan)
    _resolve_teams(plan, team)
    _resolve_managers(plan, manager)
    for invitee in plan.invitees:
        invitee.outcome = _outcome(org, invitee.email)
    plan.problems = sorted(dict.fromkeys(plan.problems), key=lambda problem: problem.line or 0)
    return plan


def _invitees_of(line: Line, problems: list[Problem]) -> list[Invitee]:
    problems += [Problem(line.number, text) for text in line.problems]
    values = line.values
    addresses = split_addresses(values.get("email", ""))
    if not addresses:
        problems.append(Problem(line.number, "no email address"))
        return []
    personal = [LABELS[name] for name in PERSONAL if values.get(name)]
    if len(addresses) > 1 and personal:
        problems.append(Problem(line.number, f"{len(addresses)} addresses share this line, so its "
                                             f"{', '.join(personal)} cannot say whose they are: give each "
                                             f"person their own line"))
        return []
    attrs = {name: values[name] for name in PERSONAL if values.get(name)}
    team_names = [values["team"]] if values.get("team") else []
    invitees = []
    for address in addresses:
        problem = address_problem(address)
        if problem:
            problems.append(Problem(line.number, f"{address}: {problem}"))
        else:
            invitees.append(Invitee(line.number, address, attrs, team_names, values.get("manager") or None))
    return invitees


def _drop_repeats(plan: Plan) -> None:
    first_line: dict[str, int] = {}
    kept = []
    for invitee in plan.invitees:
        if invitee.key in first_line:
            plan.problems.append(Problem(invitee.line, f"{invitee.email}: already on line {first_line[invitee.key]}"))
            continue
        first_line[invitee.key] = invitee.line
        kept.append(invitee)
    plan.invitees = kept


def _check_users(plan: Plan) -> None:
    """The directory's rules for a new user: free address, outside-domains policy, field sizes."""
    org = plan.organisation
    conflicts = directory.creation_conflicts(org, [(invitee.email, invitee.email) for invitee in plan.invitees])
    for index, invitee in enumerate(plan.invitees):
        try:
            if index in conflicts:
                raise conflicts[index]
            autojoin.check_outside_domain(org, invitee.email)
            check_text(User, invitee.attrs)
        except AllyError as exc:
            plan.problems.append(Problem(invitee.line, f"{invitee.email}: {exc.message}"))


def _resolve_teams(plan: Plan, option: str | None) -> None:
    found: dict[str, object] = {}

    def lookup(name: str, line: int | None, prefix: str):
        if name.lower() not in found:
            try:
                found[name.lower()] = teams.find_team(plan.organisation, name)
            except AllyError as exc:
                found[name.lower()] = exc
        if isinstance(found[name.lower()], AllyError):
            plan.problems.append(Problem(line, f"{prefix}{found[name.lower()].message}"))
            return None
        return found[name.lower()]

    extra = [lookup(option, None, "--team: ")] if option else []
    for invitee in plan.invitees:
        named = [lookup(name, invitee.line, "team: ") for name in invitee.team_names]
        invitee.teams = list({team.id: team for team in named + extra if team is not None}.values())


def _resolve_managers(plan: Plan, option: str | None) -> None:
    """Managers are users of the organisation or users of this file; no one manages themselves,
    and managers in the file form no loop. --manager applies to lines without a manager,
    except the manager's own line."""
    in_file = {invitee.key: invitee for invitee in plan.invitees}
    for invitee in plan.invitees:
        if invitee.manager:
            _existing_manager(plan, invitee.manager, invitee.line, "manager: ", in_file)
    if option:
        _existing_manager(plan, option, None, "--manager: ", in_file)
        for invitee in plan.invitees:
            if not invitee.manager and invitee.key != option.lower():
                invitee.manager = option
    _check_loops(plan, in_file)


def _existing_manager(plan: Plan, text: str, line: int | None, prefix: str, in_file: dict) -> None:
    key = text.lower()
    if key in in_file:
        return
    if key not in plan.existing_managers:
        try:
            plan.existing_managers[key] = directory.find_user(plan.organisation, text)
        except AllyError as exc:
            plan.existing_managers[key] = exc
    if isinstance(plan.existing_managers[key], AllyError):
        plan.problems.append(Problem(line, f"{prefix}{plan.existing_managers[key].message}"))


def _check_loops(plan: Plan, in_file: dict) -> None:
    above = {invitee.key: invitee.manager.lower() for invitee in plan.invitees
             if invitee.manager and invitee.manager.lower() in in_file}
    for key, manager_key in above.items():
        seen, current = set(), manager_key
        while current in above and current not in seen and current != key:
            seen.add(current)
            current = above[current]
        if current == key:
            invitee = in_file[key]
            error = ManagerCycle(invitee.email, in_file[manager_key].email)
            plan.problems.append(Problem(invitee.line, f"{invitee.email}: {error.message}"))


def _outcome(org, email: str) -> str:
    return JOINS if autojoin.joins_directly(org, email) else INVITED


def describe(plan: Plan, invitee: Invitee) -> str:
    """What importing does for this user, in words: how they join, their teams and manager."""
    if invitee.outcome == JOINS:
        parts = [f"joins directly (auto-join domain {email_domain(invitee.email)})"]
    elif plan.skip_invitations:
        parts = ["invited, no email (--skip-invitations)"]
    elif invitations.should_skip(plan.organisation, None):
        parts = ["invited, no email (the organisation skips invitation emails)"]
    else:
        parts = ["invited by email (join link)"]
    parts += [f"team {team.name}" for team in invitee.teams]
    if invitee.manager:
        parts.append(f"manager {invitee.manager}")
    return ", ".join(parts)


def plan_counts(plan: Plan) -> dict:
    """How many users the plan creates, how they join, memberships and managers it sets."""
    invited = sum(invitee.outcome == INVITED for invitee in plan.invitees)
    emailed = 0 if invitations.should_skip(plan.organisation, plan.skip_invitations) else invited
    return {
        "users": len(plan.invitees),
        "joined": len(plan.invitees) - invited,
        "invited_by_email": emailed,
        "invited_without_email": invited - emailed,
        "memberships": sum(len(invitee.teams) for invitee in plan.invitees),
        "managers_set": sum(1 for invitee in plan.invitees if invitee.manager),
    }
