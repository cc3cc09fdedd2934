"""Pages of an organisation's users that continue where an earlier page ended.

An unfiltered page in the listing order (GET /Users?startIndex=..&count=.., as Okta pages
through every user) finds its users with OFFSET: the database walks the listing index from the
organisation's first user to the page, a cost that grows with the depth (on PostgreSQL 7 ms at
50,000 users, 12 ms at 100,000). IdPs page in order, so each worker process remembers, per
organisation, the key (created_at, id) of the user at a few positions of the listing it has
served: the user just before a page and the page's last user. A later page at or after a
remembered position starts from its key (a range read of the same index) and walks only the
users between it and the page.

A remembered key says where it stands only while no user has joined or left the listing before
it, or moved in its order. The database counts every such change (live_user_count.changes,
migration 0010, kept by the triggers that keep the count), and a key is used only under the
count it was found under. It is remembered only when the count read before the read that found
it and the count read after are the same: no change was committed in between. Pages near the
start walk as before (MIN_DEPTH), and nothing is remembered for them.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from peewee import Tuple

from connector import directory
from connector.db import cached_select
from connector.models import User

LISTING_ORDER = (User.created_at, User.id)  # the users' default order: user_listing's (migration 0008)
MIN_DEPTH = 1_000  # a walk to a page nearer the start than this costs less than remembering
KEPT_POSITIONS = 256  # per organisation and worker: a page remembers at most two
KEPT_ORGANISATIONS = 64

_kept: OrderedDict = OrderedDict()  # (organisation id, created_at) -> (changes, {position: key})
_lock = threading.Lock()


def page_ids(org, changes: int, offset: int, limit: int) -> list[str]:
    """The ids of the users at positions offset + 1 .. offset + limit of the organisation's
    listing (users_query in LISTING_ORDER), `changes` being the organisation's count of changes
    read before (directory.live_listing)."""
    if offset < MIN_DEPTH:
        return [user_id for _created, user_id in _walk(org, offset, limit)]
    start = _nearest(org, changes, offset)
    if start is None:  # from the first user, and the one before the page with it
        first, rows = offset, _walk(org, offset - 1, limit + 1)
    else:
        position, key = start
        skip = offset - position  # users between the remembered one and the page
        first, rows = (offset + 1, _seek(org, key, 0, limit)) if skip == 0 else \
            (offset, _seek(org, key, skip - 1, limit + 1))
    page = rows[1:] if first == offset else rows
    if page and directory.live_listing(org)[1] == changes:
        found = {offset + len(page): page[-1]}
        if first == offset:
            found[offset] = rows[0]
        _remember(org, changes, found)
    return [user_id for _created, user_id in page]


def forget() -> None:
    """Drop every remembered position (tests, and a worker that wants a clean start)."""
    with _lock:
        _kept.clear()


def _walk(org, offset: int, limit: int) -> list[tuple]:
    """(created_at as stored, id) of the users at offset + 1 .. offset + limit, from the start."""
    return cached_select("user_listing_walk", lambda: _keys(org).offset(offset).limit(limit),
                         [org.id, limit, offset])


def _seek(org, key: tuple, skip: int, limit: int) -> list[tuple]:
    """The same for the users after `key`, leaving out the first `skip` of them."""
    created, user_id = key
    return cached_select("user_listing_seek", lambda: _keys(org).where(
        Tuple(*LISTING_ORDER) > Tuple(created, user_id)).offset(skip).limit(limit),
        [org.id, created, user_id, limit, skip])


def _keys(org):
    # created_at as the driver returns it, unconverted: compared again as it is stored.
    return directory.users_query(org).select(User.created_at.coerce(False), User.id).order_by(
        *LISTING_ORDER).tuples()


def _nearest(org, changes: int, offset: int) -> tuple[int, tuple] | None:
    """The remembered (position, key) nearest before or at `offset`, under `changes`."""
    with _lock:
        kept = _kept.get(_identity(org))
        if kept is None or kept[0] != changes:
            return None
        before = [position for position in kept[1] if position <= offset]
        return (max(before), kept[1][max(before)]) if before else None


def _remember(org, changes: int, found: dict) -> None:
    identity = _identity(org)
    with _lock:
        kept = _kept.get(identity)
        if kept is not None and kept[0] > changes:
            return  # a slower request found these before a change another one has seen since
        if kept is None or kept[0] < changes:
            kept = _kept[identity] = (changes, {})
        _kept.move_to_end(identity)
        positions = kept[1]
        positions.update(found)
        while len(positions) > KEPT_POSITIONS:
            del positions[next(iter(positions))]  # the longest kept
        while len(_kept) > KEPT_ORGANISATIONS:
            _kept.popitem(last=False)


def _identity(org) -> tuple:
    # With its creation time: SQLite may give a deleted organisation's id to the next one.
    return org.id, org.created_at
