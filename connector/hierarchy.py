"""Chains of rows that point at a row of their own kind: a user's manager, a team's parent.
Neither may loop, so before linking a row under another we walk up from the new superior."""
from __future__ import annotations


def reaches(start, link, target_id) -> bool:
    """Whether walking `link` (a self-referencing foreign key) up from the row `start`, start
    included, meets the row whose id is target_id. One query per step; stops on an old loop."""
    model = type(start)
    seen, current_id, up_id = set(), start.id, getattr(start, link.object_id_name)
    while current_id != target_id:
        seen.add(current_id)
        if up_id is None or up_id in seen:
            return False
        current_id = up_id
        up_id = model.select(link).where(model.id == up_id).scalar()
    return True
