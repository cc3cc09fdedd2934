"""Chains of rows that point at a row of their own kind: a user's manager, a team's parent.
Neither may loop, so before linking rows under others we walk up from the new superiors."""
from __future__ import annotations

from connector.db import batches

BATCH = 500  # ids per IN (...) list


def reaches(start, link, target_id) -> bool:
    """Whether walking `link` (a self-referencing foreign key) up from the row `start`, start
    included, meets the row whose id is target_id. One query per step; stops on an old loop."""
    known = {start.id: getattr(start, link.object_id_name)}
    return first_loop(type(start), link, {target_id: start.id}, known=known) == target_id


def first_loop(model, link, new_links: dict, *, known: dict | None = None):
    """With new_links ({row id: id of its new superior}) made, the first row of new_links that
    would find itself walking up `link`; None when no chain loops. The stored chains are read
    one level per query for all the new links at once; chains that already loop stop the walk."""
    up = {**(known or {}), **new_links}
    wanted = {superior for superior in up.values() if superior is not None and superior not in up}
    while wanted:
        found = dict.fromkeys(wanted)  # a row that does not exist ends its chain
        for batch in batches(sorted(wanted), BATCH):
            found.update(model.select(model.id, link).where(model.id.in_(batch)).tuples())
        up.update(found)
        wanted = {superior for superior in found.values() if superior is not None and superior not in up}
    for row_id in new_links:
        seen, current = set(), up.get(row_id)
        while current is not None and current not in seen:
            if current == row_id:
                return row_id
            seen.add(current)
            current = up.get(current)
    return None
