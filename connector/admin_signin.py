"""Signing in to the OAuth consent page as an Ally admin: the password (set from the CLI,
stored as an scrypt hash) and checking email and password.

Who is an admin is connector.admins' rule (granted directly, or a member of an admin group).
Suspended users and users pending deletion cannot sign in.
"""
from __future__ import annotations

from connector import audit
from connector.admins import is_effective_admin
from connector.db import write_transaction
from connector.errors import AllyError, NotFound
from connector.models import Organisation, User
from connector.oauth_tenancy import tenant_of
from oauth import Admin
from oauth.hashing import hash_password, verify_password

MIN_PASSWORD_LENGTH = 12


def can_sign_in(user: User) -> bool:
    return user.status != "suspended" and user.pending_deletion_at is None


def check_may_approve(user: User) -> User:
    """The user, if they are an admin who may sign in to approve identity providers."""
    if not is_effective_admin(user):
        raise AllyError(f"{user.user_name} is not an admin of {user.organisation.name}: only admins can approve "
                        "identity providers")
    if not can_sign_in(user):
        raise AllyError(f"{user.user_name} is suspended and cannot sign in")
    return user


def user_named(email: str) -> User:
    """The one user, in any organisation, with this email or userName; with several
    organisations holding it, the caller must name the organisation."""
    users = _users_named(email)
    if not users:
        raise NotFound(f"No user with the email {email}")
    if len(users) > 1:
        slugs = ", ".join(sorted(user.organisation.slug for user in users))
        raise AllyError(f"{email} is a user of several organisations ({slugs}); name one with --org")
    return users[0]


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AllyError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters")
    password_hash = hash_password(password)
    with write_transaction():
        User.update(password_hash=password_hash).where(User.id == user.id).execute()
        audit.record("admin.password_set", organisation=user.organisation, target_type="user",
                     target_id=user.id, target_label=user.user_name)


def authenticate(email: str, password: str) -> Admin | None:
    """The admin whose email (or userName) and password match, or None. A wrong email costs
    the same time as a wrong password."""
    candidates = [user for user in _users_named(email) if user.password_hash and can_sign_in(user)]
    if not candidates:
        verify_password(password, None)
        return None
    for user in candidates:
        if verify_password(password, user.password_hash) and is_effective_admin(user):
            return Admin(id=user.id, tenant=tenant_of(user.organisation), email=user.email or user.user_name)
    return None


def _users_named(email: str) -> list[User]:
    """Users of any organisation whose email or userName this is (not those pending deletion)."""
    key = email.strip().lower()
    if not key or "\x00" in key:  # no one is named so, and PostgreSQL refuses NUL in text
        return []
    return list(User.select(User, Organisation).join(Organisation)
                .where(((User.email_key == key) | (User.user_name_key == key)) & User.pending_deletion_at.is_null())
                .order_by(User.organisation, User.id))
