"""The Ally directory's users: the one service every caller (SCIM, CLI, the join page) goes
through to create, change, suspend, reactivate and delete users (DESIGN.md §3).

Functions take the Organisation or User and plain values; they raise connector.errors on
anything Ally refuses. create_users is the bulk form of create_user (a CSV import): the same
rules, with a fixed number of statements per batch; create_user is its one-user case. Deleting lives in connector.deletion, admins in connector.admins,
managers in connector.managers, teams in connector.teams.
"""
from __future__ import annotations

from typing import Callable

from peewee import SQL, Case, IntegrityError, fn

from connector import audit, autojoin, invitations, user_values
from connector.clock import utcnow
from connector.db import batches, cached_select, insert_rows, is_postgres, reads_after_refusal, write_transaction
from connector.errors import AccountSuspended, AllyError, Conflict, DuplicateUser, InvalidInvitation, InvalidValue, \
    MissingUserName, NotFound, UnknownField
from connector.limits import check_text
from connector.models import LiveUserCount, User
from connector.user_changes import record, require_present, save, snapshot

PROFILE_FIELDS = ("external_id", "formatted_name", "given_name", "family_name", "middle_name", "honorific_prefix",
                  "honorific_suffix", "display_name", "nick_name", "profile_url", "title", "user_type",
                  "preferred_language", "locale", "timezone", "employee_number", "cost_center", "organization",
                  "division", "department")
# What create_user/update_user change; status, admin and manager have their own operations.
CHANGEABLE = frozenset(PROFILE_FIELDS + ("user_name", "managed_by_idp"))
AUDITED = PROFILE_FIELDS + ("user_name", "email", "managed_by_idp")
CHECK_BATCH = 500  # keys per IN (...) list
SkipInvitation = bool | Callable[[], bool] | None  # see invitations.should_skip


def users_query(org):
    """The organisation's users as SCIM and the admin screens see them (not those pending
    deletion), as a query the caller can filter, sort and page."""
    return User.select().where((User.organisation == org) & User.pending_deletion_at.is_null())


def live_user_count(org) -> int:
    """How many users users_query(org) holds, as the database keeps it (migration 0009): what
    an unfiltered page says as its totalResults, without counting 100,000 users each time."""
    return live_listing(org)[0]


def live_listing(org) -> tuple[int, int]:
    """(users, changes) of users_query(org) as the database keeps them: how many users it holds,
    and how many times a user joined, left or moved in its order so far (migration 0010)."""
    rows = cached_select("live_listing", lambda: LiveUserCount.select(LiveUserCount.users, LiveUserCount.changes).where(
        LiveUserCount.organisation == org.id).tuples(), [org.id])
    return rows[0] if rows else (0, 0)


def users_by_key_query(org):
    """users_query for a filter that compares a key (id, userName) for equality: the same rows,
    with the organisation compared as by_key does, and "not pending deletion" written so that it
    does not match the partial indexes of the organisation's live users (migration 0008): with
    stale statistics PostgreSQL would otherwise scan one of those instead of the key's index."""
    live = Case(None, [(User.pending_deletion_at.is_null(), SQL("1"))], SQL("0")) == SQL("1")
    return User.select().where(by_key(org.id) & live)


def users_by_ids(ids: list[str]) -> list:
    """The users with these ids (a page whose ids a filtered query picked), in any order, by a
    statement prepared once per number of ids (db.cached_select)."""
    found = []
    for batch in batches(ids, CHECK_BATCH):
        found += cached_select(("users_by_ids", len(batch)),
                               lambda batch=batch: User.select().where(User.id.in_(batch)), list(batch))
    return found


def by_key(organisation_id: int):
    """"In this organisation", for a lookup by a key (id, userName, email): written
    `organisation_id + 0 = ?`, which no index serves, so the database reads the key's own index
    (migration 0007). Compared plainly, PostgreSQL without fresh statistics may take any index
    leading with organisation_id and filter every user of the organisation."""
    return (User.organisation + SQL("0")) == organisation_id


def get_user(org, user_id: str, *, lock: bool = False) -> User:
    """The user with this id in this organisation; NotFound when unknown, in another
    organisation, or pending deletion. lock=True, inside a write transaction, keeps the row
    locked until it ends on PostgreSQL (SELECT ... FOR UPDATE), so concurrent changes of one
    user queue instead of overwriting each other (SQLite's write transactions lock already)."""
    locking = lock and is_postgres()

    def build():
        query = users_by_key_query(org).where(User.id == str(user_id)).limit(1)
        return query.for_update() if locking else query

    user = next(iter(cached_select(("get_user", locking), build, [org.id, str(user_id), 1])), None)
    if user is None:
        raise NotFound(f"No user with the id {user_id!r} in this organisation")
    return user


def find_user(org, identifier: str, *, include_pending: bool = False) -> User:
    """A user named by id, userName or email (case-insensitively). With include_pending, users
    pending deletion are found too, by the userName and email they had."""
    key = identifier.strip().lower()
    present = (User.id == identifier.strip()) | (User.user_name_key == key) | (User.email_key == key)
    if include_pending:
        present |= User.pending_deletion_at.is_null(False) & (
            (fn.LOWER(User.user_name) == key) | (fn.LOWER(User.email) == key))
    else:
        present &= User.pending_deletion_at.is_null()
    matches = list(User.select().where((User.organisation == org) & present).order_by(User.created_at, User.id))
    if not matches:
        raise NotFound(f"No user {identifier!r} in this organisation")
    if len(matches) > 1:
        raise AllyError(f"Several users match {identifier!r}; name one by its id ({', '.join(u.id for u in matches)})")
    return matches[0]


def create_user(org, attrs: dict, *, values: dict | None = None, managed_by_idp: bool = False,
                skip_invitation: SkipInvitation = None, active: bool = True) -> User:
    """Invite or auto-join a user. A work-domain email joins as `active`; another is invited
    (with an email unless skipped) or refused by the outside-domains policy. active=False
    creates the user suspended, with no invitation. managed_by_idp=True: an identity provider
    provisions the user (and has just seen it: User.idp_seen_at)."""
    with write_transaction():
        user = create_users(org, [(attrs, values)], managed_by_idp=managed_by_idp, skip_invitation=skip_invitation,
                            invite=active)[0]
        if not active:
            suspend(user)
    return user


def create_users(org, people: list[tuple[dict, dict | None]], *, managed_by_idp: bool = False,
                 skip_invitation: SkipInvitation = None, invite: bool = True) -> list[User]:
    """create_user for many users at once, given as (attrs, values) pairs: the same rules, with
    a fixed number of statements per few hundred users instead of several per user (a bulk
    invite). The first refusal refuses them all. invite=False sends no invitations."""
    users = [_new_user(org, attrs, values, managed_by_idp) for attrs, values in people]
    with write_transaction():
        conflicts = creation_conflicts(org, [(user.user_name, user.email) for user, _ in users])
        if conflicts:
            raise conflicts[min(conflicts)]
        for user, _ in users:
            user.status = autojoin.initial_status(org, user.email)
            user.joined_at = utcnow() if user.status == "active" else None
        _insert(org, [user for user, _ in users])
        user_values.insert(users)
        audit.record_many("user.created", organisation=org, target_type="user", targets=[
            (user.id, user.user_name, {name: [None, value] for name, value in _audited(user, status=user.status).items()
                                       if value is not None}) for user, _ in users])
        invited = [user for user, _ in users if user.status == "invited"]
        if invite and invited and not invitations.should_skip(org, skip_invitation):
            invitations.issue_many(invited, org)
    return [user for user, _ in users]


def creation_conflicts(org, identities: list[tuple[str, str | None]]) -> dict[int, Conflict]:
    """What creating users with these (userName, email) pairs would refuse, by index: a name or
    address taken by a user of the organisation (RFC 7643 §4.1.1: userName is caseExact=false),
    Ally's "This account has been suspended" when that user is suspended, or a pair repeating
    an earlier one. A few queries in all, whatever the number of pairs."""
    names = {name.lower() for name, _ in identities}
    emails = {email.lower() for _, email in identities if email}
    taken: dict[tuple[str, str], User] = {}
    for batch in batches(sorted(names | emails), CHECK_BATCH):
        def build(batch=batch):
            return User.select(User.id, User.status, User.user_name_key, User.email_key, User.created_at).where(
                by_key(org.id) & (User.user_name_key.in_(batch) | User.email_key.in_(batch)))

        found = cached_select(("creation_conflicts", len(batch)), build, [org.id, *batch, *batch])
        # Sorted here, not by ORDER BY, which would steer PostgreSQL to the ordering index.
        for other in sorted(found, key=lambda user: (user.created_at, user.id)):
            taken.setdefault(("name", other.user_name_key), other)
            if other.email_key:
                taken.setdefault(("email", other.email_key), other)
    conflicts, earlier = {}, {}
    for index, (name, email) in enumerate(identities):
        keys = [("name", name.lower())] + ([("email", email.lower())] if email else [])
        other = next((taken[key] for key in keys if key in taken), None)
        if other is not None:
            conflicts[index] = _clash(other, name, email, creating=True)
        elif any(key in earlier for key in keys):
            field, value = ("user_name", name) if keys[0] in earlier else ("email", email)
            conflicts[index] = DuplicateUser(field, value)
        earlier.update(dict.fromkeys(keys))
    return conflicts


def update_user(user, changes: dict, *, values: dict | None = None, stored: dict | None = None) -> User:
    """Change profile fields and multi-valued attributes (each kind given replaces its rows).
    Nothing changes, not even the version, when the values are the ones stored. `stored`: the
    user's values as user_values.rows_of gives them (every kind), when the caller has just read
    them in this transaction with the user locked: they are not read again."""
    require_present(user)
    changes, values = _checked(changes), user_values.check(values)
    if "user_name" in changes:
        changes["user_name"] = (changes["user_name"] or "").strip()
        if not changes["user_name"]:
            raise MissingUserName()
    unchanged = dict(user.__data__)
    try:
        with write_transaction():
            _apply_update(user, changes, values, stored)
    except Exception:
        user.__data__ = unchanged  # a refused update leaves the caller's object as stored
        raise
    return user


def _apply_update(user, changes: dict, values: dict, stored: dict | None) -> None:
    before = _audited(user)
    replaced = stored if stored is not None else user_values.rows_of(user, kinds=list(values)) if values else {}
    for name, value in changes.items():
        setattr(user, name, value)
    if "emails" in values or "user_name" in changes:
        user.email = _primary_email(user, values, stored)
    value_changes = _value_changes(replaced, values)
    diff = {**audit.diff(before, _audited(user)), **value_changes}
    if not diff:
        return
    _check_new_identity(user, before)
    user_values.replace(user, {kind: values[kind] for kind in value_changes})
    _set_keys(user)
    _save(user)
    record("user.updated", user, diff)


def suspend(user) -> User:
    """Ally's "Deactivate": cannot log in, stays in teams and keeps owning objectives."""
    require_present(user)
    if user.status == "suspended":
        return user
    with write_transaction():
        before = user.status
        user.status, user.suspended_at = "suspended", utcnow()
        save(user)
        # Links are issued to invited users and redeemed on joining, so a user who joined holds
        # none, unless a resend raced the join; the join page refuses a suspended user's link
        # in any case (_invitee).
        if before == "invited":
            invitations.revoke_open(user)
        record("user.suspended", user, {"status": [before, "suspended"]})
    return user


def reactivate(user, *, skip_invitation: SkipInvitation = None) -> User:
    """Ally's "Make Active": back to `active` if the user had joined, else to `invited` (with
    a fresh invitation, since the old link was revoked at suspension)."""
    require_present(user)
    if user.status != "suspended":
        return user
    with write_transaction():
        user.status = "active" if user.joined_at else "invited"
        user.suspended_at = None
        save(user)
        record("user.reactivated", user, {"status": ["suspended", user.status]})
        if user.status == "invited" and not invitations.should_skip(user.organisation, skip_invitation):
            invitations.issue(user, user.organisation)
    return user


def set_active(user, active: bool, *, skip_invitation: SkipInvitation = None) -> User:
    """SCIM's `active` attribute: false suspends, true reactivates."""
    return reactivate(user, skip_invitation=skip_invitation) if active else suspend(user)


def resend_invitation(user):
    """A new join link for a user who has not joined yet (the older links stop working)."""
    require_present(user)
    if user.status == "suspended":
        raise AccountSuspended(user.id)
    if user.status != "invited":
        raise InvalidValue(f"{user.user_name} has already joined")
    if not user.email:
        raise InvalidValue(f"{user.user_name} has no email address to send an invitation to")
    with write_transaction():
        return invitations.issue(user, user.organisation)


def check_invitation(token: str):
    """(Invitation, User) of a join link that accept_invitation would take, changing nothing
    (the join page shows them before the user accepts); refused as accept_invitation refuses."""
    invitation = invitations.usable(token)
    return invitation, _invitee(invitation)


def accept_invitation(token: str) -> User:
    """The invited user follows the join link: they become `active`. The link works once and
    expires; suspended or deleted users are refused."""
    with audit.acting_as("join-link", audit.current_request_id()), write_transaction():
        user = _invitee(invitations.redeem(token))
        if user.status == "invited":
            user.status, user.joined_at = "active", utcnow()
            save(user)
            record("user.joined", user, {"status": ["invited", "active"]})
    return user


def _invitee(invitation) -> User:
    user = User.get_by_id(invitation.user_id)
    if user.pending_deletion_at is not None:
        raise InvalidInvitation(InvalidInvitation.UNKNOWN)
    if user.status == "suspended":
        raise AccountSuspended(user.id)
    return user


def _primary_email(user, values: dict, stored: dict | None) -> str | None:
    if "emails" in values:
        emails = values["emails"]
    else:
        emails = (stored if stored is not None else user_values.rows_of(user, ["emails"])).get("emails", [])
    return user_values.primary_email(emails, user.user_name)


def _checked(attrs: dict | None) -> dict:
    attrs = dict(attrs or {})
    if set(attrs) - CHANGEABLE:
        raise UnknownField(set(attrs) - CHANGEABLE)
    check_text(User, attrs)
    return attrs


def _audited(user, **extra) -> dict:
    return {**snapshot(user, AUDITED), **extra}


def _value_changes(stored: dict, values: dict) -> dict:
    """{kind: [before, after]} for the kinds whose rows differ from the stored ones."""
    def plain(rows):
        return [{name: value for name, value in row.items() if value not in (None, False)} for row in rows]

    return {kind: [stored.get(kind, []), plain(rows)] for kind, rows in values.items()
            if plain(rows) != stored.get(kind, [])}


def _check_new_identity(user, before: dict) -> None:
    """A new userName or email must be free; a new email must be allowed by the domains policy."""
    email_changed = (user.email or "").lower() != (before["email"] or "").lower()
    if email_changed or user.user_name.lower() != (before["user_name"] or "").lower():
        _ensure_unique(user)
    if email_changed:
        autojoin.check_outside_domain(user.organisation, user.email)


def _ensure_unique(user) -> None:
    """A changed userName or primary email must not be another user's: both are unique per
    organisation, case-insensitively (RFC 7643 §4.1.1: userName is caseExact=false)."""
    clash = User.user_name_key == user.user_name.lower()
    if user.email:
        clash |= User.email_key == user.email.lower()
    other = (User.select(User.id, User.status, User.user_name_key)
             .where(by_key(user.organisation_id) & clash & (User.id != user.id)).first())
    if other is not None:
        raise _clash(other, user.user_name, user.email)


def _clash(other, user_name: str, email: str | None, *, creating: bool = False) -> Conflict:
    """The refusal for a user whose userName or email is taken by `other`."""
    if creating and other.status == "suspended":
        return AccountSuspended(other.id)
    if other.user_name_key == user_name.lower():
        return DuplicateUser("user_name", user_name, other.id)
    return DuplicateUser("email", email, other.id)


def _set_keys(user) -> None:
    user.user_name_key = user.user_name.lower()
    user.email_key = user.email.lower() if user.email else None


def _new_user(org, attrs: dict, values: dict | None, managed_by_idp: bool) -> tuple[User, dict]:
    """The unsaved User and its values, with the fields checked (the status is set later)."""
    attrs, values = _checked(attrs), user_values.check(values)
    user_name = (attrs.pop("user_name", None) or "").strip()
    managed_by_idp = attrs.pop("managed_by_idp", managed_by_idp)
    if not user_name:
        raise MissingUserName()
    email = user_values.primary_email(values.get("emails", []), user_name)
    now = utcnow()
    user = User(organisation=org, **attrs, user_name=user_name, email=email, managed_by_idp=managed_by_idp,
                created_at=now, updated_at=now, idp_seen_at=now if managed_by_idp else None)
    _set_keys(user)
    return user, values


def _insert(org, users: list[User]) -> None:
    """Insert new users; a unique index that fires because of a concurrent writer becomes the
    same Conflict the check before would have raised."""
    # Only the columns some user has a value for: the others are NULL, and each column left
    # out saves a placeholder per user.
    columns = [name for name in User._meta.fields if any(user.__data__.get(name) is not None for user in users)]
    rows = [{name: user.__data__.get(name) for name in columns} for user in users]
    # Rows a unique index refuses are skipped rather than failing the statement: on PostgreSQL a
    # failed statement would take a savepoint (two more round trips on every create) to read on.
    if insert_rows(User, rows, skip_conflicting=True) < len(rows):
        conflicts = creation_conflicts(org, [(user.user_name, user.email) for user in users])
        if conflicts:
            raise conflicts[min(conflicts)]
        raise IntegrityError("a unique index refused a new user that no other user conflicts with")
    for user in users:
        user._dirty.clear()


def _save(user) -> None:
    """Write a changed user (user_changes.save); a unique index that fires because of a
    concurrent writer becomes the same DuplicateUser the check before would have raised."""
    try:
        with reads_after_refusal():
            save(user)
    except IntegrityError:
        _ensure_unique(user)
        raise
