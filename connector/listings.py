"""Whole-organisation listings of users and teams for the admin (the CLI's --json output),
each built with a fixed number of queries, whatever the number of users or teams."""
from __future__ import annotations

from peewee import JOIN, fn

from connector.admins import admin_expression, admin_group_keys, ally_teams
from connector.clock import isoformat
from connector.managers import designated_manager_expression
from connector.models import Membership, Team, User


def user_rows(org, status: str | None = None) -> list[dict]:
    """Three queries: users with their manager and admin state, then team names."""
    Manager = User.alias()
    query = (User.select(User, Manager.user_name.alias("manager_name"), admin_expression(org).alias("admin"),
                         designated_manager_expression().alias("designated_manager"))
             .join(Manager, JOIN.LEFT_OUTER, on=(User.manager == Manager.id))
             .where(User.organisation == org).order_by(fn.LOWER(User.user_name), User.id))
    if status:
        query = query.where(User.status == status)
    users = list(query.objects())
    teams = _team_names_by_user(org, status)
    return [_user_row(user, teams.get(user.id, [])) for user in users]


def team_rows(org) -> list[dict]:
    """Two queries: Ally teams with their parent's name, then member userNames. Admin groups
    that are not teams (admin_groups_are_teams: false) are left out; their sub-teams show as
    top-level teams."""
    Parent = Team.alias()
    teams = list(Team.select(Team, Parent.name.alias("parent_name"))
                 .join(Parent, JOIN.LEFT_OUTER, on=(Team.parent == Parent.id) & ally_teams(org, Parent))
                 .where((Team.organisation == org) & ally_teams(org)).order_by(Team.name_key).objects())
    members: dict[str, list[str]] = {}
    query = (Membership.select(Membership.team, User.user_name).join(User).switch(Membership).join(Team)
             .where((Team.organisation == org) & ally_teams(org)).order_by(User.user_name_key).tuples())
    for team_id, user_name in query:
        members.setdefault(team_id, []).append(user_name)
    admin_groups = admin_group_keys(org)
    return [{"id": team.id, "name": team.name, "parent": team.parent_name, "external_id": team.external_id,
             "members": members.get(team.id, []), "admin_group": team.name_key in admin_groups,
             "managed_by_idp": team.managed_by_idp} for team in teams]


def shown_name(user) -> str | None:
    """The name Ally shows for a user: the display name, else given and family name."""
    return user.display_name or " ".join(part for part in (user.given_name, user.family_name) if part) or None


def _team_names_by_user(org, status: str | None) -> dict[str, list[str]]:
    query = (Membership.select(Membership.user, Team.name).join(Team).switch(Membership).join(User)
             .where((Team.organisation == org) & ally_teams(org)).order_by(Team.name_key))
    if status:
        query = query.where(User.status == status)
    names: dict[str, list[str]] = {}
    for user_id, team_name in query.tuples():
        names.setdefault(user_id, []).append(team_name)
    return names


def _user_row(user, teams: list[str]) -> dict:
    return {
        "id": user.id,
        "userName": user.user_name,
        "email": user.email,
        "name": shown_name(user),
        "status": user.status,
        "admin": bool(user.admin),
        "is_admin": user.is_admin,
        "manager": user.manager_name,
        "designated_manager": bool(user.designated_manager),
        "teams": teams,
        "pending_deletion": user.pending_deletion_at is not None,
        "managed_by_idp": user.managed_by_idp,
        "external_id": user.external_id,
        "joined_at": isoformat(user.joined_at),
        "suspended_at": isoformat(user.suspended_at),
    }
