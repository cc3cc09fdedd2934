"""Objectives, as far as the connector cares: who owns them. An owner cannot be deleted, so
these are the hooks the OKR side uses to create objectives and hand them to someone else."""
from __future__ import annotations

from connector import audit
from connector.db import write_transaction
from connector.errors import InvalidValue, NotFound
from connector.limits import check_text
from connector.models import Objective
from connector.user_changes import require_present


def add_objective(org, owner, title: str) -> Objective:
    check_text(Objective, {"title": title})
    title = (title or "").strip()
    if not title:
        raise InvalidValue("An objective needs a title")
    _require_member(org, owner)
    require_present(owner)
    with write_transaction():
        objective = Objective.create(organisation=org, owner=owner, title=title)
        audit.record("objective.created", organisation=org, target_type="objective", target_id=objective.id,
                     target_label=title, changes={"owner": [None, owner.user_name]})
    return objective


def reassign_objectives(org, from_user, to_user) -> int:
    """Give every objective of from_user (who may be pending deletion) to to_user; the count."""
    _require_member(org, from_user)
    _require_member(org, to_user)
    require_present(to_user)
    if from_user.id == to_user.id:
        raise InvalidValue("The objectives already belong to that user")
    with write_transaction():
        count = (Objective.update(owner=to_user)
                 .where((Objective.organisation == org) & (Objective.owner == from_user)).execute())
        audit.record("objectives.reassigned", organisation=org, target_type="user", target_id=from_user.id,
                     target_label=from_user.user_name,
                     changes={"owner": [from_user.user_name, to_user.user_name], "objectives_reassigned": [None, count]})
    return count


def _require_member(org, user) -> None:
    if user.organisation_id != org.id:
        raise NotFound(f"No user with the id {user.id!r} in this organisation")
