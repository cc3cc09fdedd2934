"""Multi-valued user attributes (emails, phoneNumbers, addresses, roles, ...) as UserValue
rows, and the one primary email Ally uses that follows from them.

Callers pass values as {kind: [row, ...]}, each row a dict of UserValue column names
(value, display, type, primary, formatted, street_address, locality, region, postal_code,
country). A kind that is present replaces all its rows; a kind that is absent is left alone.
"""
from __future__ import annotations

from peewee import SQL

from connector import memberships
from connector.db import batches, cached_select, insert_rows
from connector.errors import InvalidValue, UnknownField
from connector.limits import check_fits, check_text
from connector.models import VALUE_KINDS, Membership, Team, User, UserValue

BATCH = 500  # user ids per IN (...) list
_ROW_ORDER = ("value", "display", "type", "primary", "formatted", "street_address", "locality", "region",
              "postal_code", "country")  # as a stored value's sub-attributes are read back
ROW_FIELDS = frozenset(_ROW_ORDER)
_ROW_COLUMNS = tuple(getattr(UserValue, name) for name in _ROW_ORDER)
_VALUE_ORDER = (UserValue.user, UserValue.kind, UserValue.position)  # a kind's values in the order sent


def check(values: dict[str, list[dict]] | None) -> dict[str, list[dict]]:
    """The values with unknown kinds or row fields refused."""
    values = values or {}
    unknown_kinds = set(values) - set(VALUE_KINDS)
    if unknown_kinds:
        raise UnknownField(unknown_kinds)
    for kind, rows in values.items():
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise InvalidValue(f"{kind} must be a list of values")
        for row in rows:
            if set(row) - ROW_FIELDS:
                raise UnknownField(set(row) - ROW_FIELDS)
            check_text(UserValue, {name: value for name, value in row.items() if name != "primary"}, prefix=kind)
            if kind == "emails":
                _check_email_fits(row.get("value"))
    return values


def _check_email_fits(address) -> None:
    """Any email value may become the user's one email, kept in a column of User."""
    if isinstance(address, str):
        check_fits(User, "email", address, "emails.value")


def primary_email(emails: list[dict], user_name: str | None) -> str | None:
    """The address Ally mails and matches on: the primary email, else the work one, else the
    first, else the userName when it looks like an address."""
    addresses = [row for row in emails if row.get("value")]
    for wanted in (lambda row: row.get("primary"), lambda row: (row.get("type") or "").lower() == "work"):
        chosen = next((row for row in addresses if wanted(row)), None)
        if chosen:
            return chosen["value"].strip()
    if addresses:
        return addresses[0]["value"].strip()
    if user_name and _looks_like_email(user_name):
        return user_name.strip()
    return None


def rows_of(user, kinds=VALUE_KINDS) -> dict[str, list[dict]]:
    """The user's stored values, grouped by kind, in the order they were sent."""
    return rows_for([user.id], kinds).get(user.id, {})


def rows_for(user_ids, kinds=VALUE_KINDS) -> dict[str, dict[str, list[dict]]]:
    """{user id: {kind: [row, ...]}} for many users at once (a SCIM page): one query per
    BATCH ids, whatever the number of values."""
    grouped: dict[str, dict[str, list[dict]]] = {}
    if not kinds:
        return grouped
    chosen = _chosen(kinds)
    for batch in batches(list(user_ids), BATCH):
        def build(batch=batch):
            return (_of_users(batch, chosen).select(UserValue.user, UserValue.kind, *_ROW_COLUMNS)
                    .order_by(*_VALUE_ORDER).tuples())

        for user_id, kind, *cells in cached_select(("user_values", len(batch), chosen), build, [*batch, *chosen]):
            _add(grouped, user_id, kind, cells)
    return grouped


def rows_and_teams_for(user_ids, kinds=VALUE_KINDS, *, with_teams: bool = True
                       ) -> tuple[dict[str, dict[str, list[dict]]], dict[str, list[tuple[str, str]]]]:
    """rows_for(user_ids, kinds) and memberships.teams_of_users(user_ids) ({} without
    with_teams), from one statement per BATCH ids when both are read: every read of a user (GET,
    the IdPs' lookups, pages) wants both, and on PostgreSQL a statement is a round trip. The
    statement is a UNION ALL of the two reads, the teams padded to the values' columns: (part,
    user, kind or the team's name_key, position, value or the team's id, display or its name,
    the other value columns)."""
    if not with_teams:
        return rows_for(user_ids, kinds), {}
    if not kinds:
        return {}, memberships.teams_of_users(user_ids)
    grouped: dict[str, dict[str, list[dict]]] = {}
    teams: dict[str, list[tuple[str, str]]] = {}
    chosen = _chosen(kinds)
    padding = [SQL("NULL")] * (len(_ROW_COLUMNS) - 2)
    for batch in batches(list(user_ids), BATCH):
        def build(batch=batch):
            values = _of_users(batch, chosen).select(SQL("0"), UserValue.user, UserValue.kind, UserValue.position,
                                                     *_ROW_COLUMNS)
            memberships_ = memberships.of_users(batch).select(SQL("1"), Membership.user, Team.name_key, SQL("NULL"),
                                                              Team.id, Team.name, *padding)
            return values.union_all(memberships_).order_by(*(SQL(str(place)) for place in range(1, 6))).tuples()

        for part, user_id, kind, _, *cells in cached_select(("user_values_and_teams", len(batch), chosen), build,
                                                            [*batch, *chosen, *batch]):
            if part == 0:
                _add(grouped, user_id, kind, cells)
            else:
                teams.setdefault(user_id, []).append((cells[0], cells[1]))
    return grouped, teams


def _chosen(kinds) -> tuple:
    """The kinds to ask for by name: none when every kind is wanted (a whole user), since a
    kind IN (...) makes SQLite search the index once per kind for every user (twice the time
    of the user's values read in one range)."""
    return () if set(kinds) >= set(VALUE_KINDS) else tuple(kinds)


def _of_users(user_ids, chosen: tuple):
    wanted = UserValue.user.in_(user_ids) & UserValue.kind.in_(list(chosen)) if chosen else UserValue.user.in_(user_ids)
    return UserValue.select().where(wanted)


def _add(grouped: dict, user_id: str, kind: str, cells) -> None:
    grouped.setdefault(user_id, {}).setdefault(kind, []).append(_as_read(zip(_ROW_ORDER, cells)))


def as_read(values: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The values (as `check` passed them) as rows_for reads them back once `insert` has stored
    them, without reading: what a create answers with."""
    return {kind: [_as_read((name, stored[name]) for name in _ROW_ORDER) for stored in map(_stored, rows)]
            for kind, rows in values.items() if rows}


def _as_read(cells) -> dict:
    """A stored row's (name, value) pairs as rows_for gives the row: the fields that hold
    something (a false `primary` is not worth saying)."""
    return {name: cell for name, cell in cells if cell not in (None, False)}


def replace(user, values: dict[str, list[dict]]) -> None:
    """Store the given kinds for the user, replacing what each kind held."""
    if not values:
        return
    UserValue.delete().where((UserValue.user == user) & UserValue.kind.in_(list(values))).execute()
    insert([(user, values)])


def insert(owned: list[tuple]) -> None:
    """Store (user, values) pairs for users holding none of those kinds yet (new users)."""
    rows = [_row(user, kind, position, row) for user, values in owned
            for kind, given in values.items() for position, row in enumerate(given)]
    insert_rows(UserValue, rows)


def _row(user, kind: str, position: int, row: dict) -> dict:
    value = row.get("value")
    return {**_stored(row), "user": user.id, "kind": kind, "position": position,
            "value_key": value.lower() if isinstance(value, str) else None}


def _stored(row: dict) -> dict:
    """What a row's fields are stored as (check has refused anything but text in them)."""
    return {**{name: row.get(name) for name in ROW_FIELDS}, "primary": bool(row.get("primary"))}


def _looks_like_email(text: str) -> bool:
    local, at, domain = text.strip().rpartition("@")
    return bool(at and local and "." in domain and " " not in text.strip())
