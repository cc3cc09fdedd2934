"""Bulk invite from a CSV file (`ally-scim import`), in place of "email us for a bulk invite".

First every line is checked against the directory's rules (plan_import) and every problem is
reported with its line number; a file with any problem changes nothing. Then the users are
created in batches, each batch one transaction, through the directory service: create_user
(auto-join, invitation, outside-domains policy), teams.add_members and managers.set_manager.
Managers are set once every user exists, so a manager may be on any line of the file.

A line's email cell may hold several addresses (separated by semicolons, commas or spaces, as
in Ally's invite box): each becomes a user with that line's team and manager. First name, last
name and title belong to one person, so such a line must leave them empty.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from peewee import DatabaseError, chunked

from connector import audit, autojoin, directory, invitations, managers, teams
from connector.csv_format import LABELS, PERSONAL, Line, address_problem, read_sheet, split_addresses
from connector.db import refresh_statistics, write_transaction
from connector.domains import email_domain
from connector.errors import AllyError, InvalidValue, ManagerCycle
from connector.limits import check_text
from connector.models import AuditEvent, Invitation, Membership, OutboxMessage, User, UserValue

ACTOR = "csv-import"
JOINS, INVITED = "joins", "invited"  # what create_user does: auto-join, or invite
BATCH = 500  # users per transaction
GROWING = (User, UserValue, Membership, Invitation, OutboxMessage, AuditEvent)  # the tables an import fills


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


class ImportInterrupted(AllyError):
    """A change made by someone else between the check and the import refused a line."""


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


def apply_import(plan: Plan, *, progress=lambda steps: None, source: str | None = None) -> dict:
    """Create the plan's users, then their team memberships and managers. Returns the counts."""
    if plan.problems:
        raise InvalidValue(f"the file has {len(plan.problems)} problem(s); nothing was imported")
    with audit.acting_as(ACTOR, audit.current_request_id()):
        created = _create_users(plan, progress)
        if len(created) > BATCH:
            refresh_statistics(*GROWING)
        _set_managers(plan, created, progress)
        counts = plan_counts(plan)
        audit.record("users.imported", organisation=plan.organisation, target_type="organisation",
                     target_id=plan.organisation.id, target_label=plan.organisation.slug,
                     changes={"file": [None, source], **{name: [None, value] for name, value in counts.items()}})
    return counts


def steps(plan: Plan) -> int:
    """How many steps apply_import reports to `progress`: one per user, one per manager set."""
    counts = plan_counts(plan)
    return counts["users"] + counts["managers_set"]


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


def _create_users(plan: Plan, progress) -> dict[str, User]:
    created: dict[str, User] = {}
    analysed_at = 0
    for batch in chunked(plan.invitees, BATCH):
        if len(created) >= 2 * analysed_at + BATCH:  # the tables have grown a lot since the planner last looked
            refresh_statistics(*GROWING)
            analysed_at = len(created)
        with _interruption(plan, batch):
            with write_transaction():
                users = directory.create_users(plan.organisation, [
                    ({"user_name": invitee.email, **invitee.attrs},
                     {"emails": [{"value": invitee.email, "type": "work", "primary": True}]}) for invitee in batch],
                    skip_invitation=plan.skip_invitations)
                created.update((invitee.key, user) for invitee, user in zip(batch, users))
                _add_memberships(batch, created)
        progress(len(batch))
    return created


def _add_memberships(batch: list[Invitee], created: dict[str, User]) -> None:
    members: dict[str, tuple] = {}
    for invitee in batch:
        for team in invitee.teams:
            members.setdefault(team.id, (team, []))[1].append(created[invitee.key].id)
    for team, user_ids in members.values():
        teams.add_members(team, user_ids)


def _set_managers(plan: Plan, created: dict[str, User], progress) -> None:
    managed = [invitee for invitee in plan.invitees if invitee.manager]
    for batch in chunked(managed, BATCH):
        with _interruption(plan, batch, users_created=True):
            managers.set_managers([(created[invitee.key], created.get(invitee.manager.lower())
                                    or plan.existing_managers[invitee.manager.lower()]) for invitee in batch])
        progress(len(batch))


@contextmanager
def _interruption(plan: Plan, batch: list[Invitee], *, users_created: bool = False):
    """Turn a refusal while applying (someone changed the directory after the check) into a
    message that says which lines were imported."""
    try:
        yield
    except (AllyError, DatabaseError) as exc:
        reason = exc.message if isinstance(exc, AllyError) else f"the database refused a change ({exc})"
        first = batch[0].line
        if users_created:
            done = f"every user was created, but managers were set only for lines before line {first}"
        elif batch[0] is plan.invitees[0]:
            done = "nothing was imported"
        else:
            done = f"the users of the lines before line {first} were imported, none from line {first} on"
        raise ImportInterrupted(f"the directory changed after the file was checked: {reason}; {done}") from exc


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
