"""Bulk invite from a CSV file: carrying out the plan connector.csv_import checked. Users are
created in batches, each batch one transaction, through the directory service's bulk paths:
create_users (auto-join, invitations, outside-domains policy) with teams.add_members, then
set_managers once every user exists, so that a manager may stand on any line of the file.
Everything is audited with the actor "csv-import".
"""
from __future__ import annotations

from contextlib import contextmanager

from peewee import DatabaseError

from connector import audit, directory, managers, teams
from connector.csv_import import Invitee, Plan, plan_counts
from connector.db import batches, refresh_statistics, write_transaction
from connector.errors import AllyError, InvalidValue
from connector.models import AuditEvent, Invitation, Membership, OutboxMessage, User, UserValue

ACTOR = "csv-import"
BATCH = 500  # users per transaction
GROWING = (User, UserValue, Membership, Invitation, OutboxMessage, AuditEvent)  # the tables an import fills


class ImportInterrupted(AllyError):
    """A change made by someone else between the check and the import refused a line."""


def apply_import(plan: Plan, *, progress=lambda steps: None, source: str | None = None, batch: int = BATCH) -> dict:
    """Create the plan's users with their team memberships, then set their managers, `batch`
    users per transaction. Returns the counts (csv_import.plan_counts)."""
    if plan.problems:
        raise InvalidValue(f"the file has {len(plan.problems)} problem(s); nothing was imported")
    with audit.acting_as(ACTOR, audit.current_request_id()):
        created = _create_users(plan, progress, batch)
        if len(created) > BATCH:
            refresh_statistics(*GROWING)
        _set_managers(plan, created, progress, batch)
        counts = plan_counts(plan)
        audit.record("users.imported", organisation=plan.organisation, target_type="organisation",
                     target_id=plan.organisation.id, target_label=plan.organisation.slug,
                     changes={"file": [None, source], **{name: [None, value] for name, value in counts.items()}})
    return counts


def steps(plan: Plan) -> int:
    """How many steps apply_import reports to `progress`: one per user, one per manager set."""
    counts = plan_counts(plan)
    return counts["users"] + counts["managers_set"]


def _create_users(plan: Plan, progress, size: int) -> dict[str, User]:
    created: dict[str, User] = {}
    analysed_at = 0
    for batch in batches(plan.invitees, size):
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


def _set_managers(plan: Plan, created: dict[str, User], progress, size: int) -> None:
    managed = [invitee for invitee in plan.invitees if invitee.manager]
    for batch in batches(managed, size):
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
