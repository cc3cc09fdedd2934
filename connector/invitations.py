"""Invitations: a single-use, expiring join link, mailed through the outbox.

The link's token is shown only in the email; the database keeps its SHA-256 (the token is 256
random bits, so a fast hash is enough). Issuing a new link revokes the user's older ones.
"""
from __future__ import annotations

from typing import Callable

import hashlib
import secrets
from datetime import timedelta

from flask import current_app

from connector import audit, outbox, settings_of
from connector.clock import isoformat, utcnow
from connector.db import batches, cached_execute, insert_rows
from connector.errors import InvalidInvitation
from connector.models import Invitation

TOKEN_BYTES = 32
BATCH = 500  # users per IN (...) list


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def should_skip(org, skip_invitation: bool | Callable[[], bool] | None) -> bool:
    """No email when the organisation skips invitations or the caller asks to skip
    ("Skip Invitation Email"); None and False follow the organisation. The caller's answer may
    be a function, asked only when the organisation's setting does not decide (a database read
    a request need not make)."""
    if org.skip_invitations:
        return True
    return bool(skip_invitation() if callable(skip_invitation) else skip_invitation)


def issue(user, org) -> Invitation | None:
    """Revoke the user's open links, make a new one and queue the email. None when the user
    has no email address to send it to."""
    if not issue_many([user], org):
        return None
    return Invitation.get(_open_links([user.id]))


def issue_many(users, org) -> int:
    """issue for many users of org at once, a few statements per few hundred users; users
    without an email address are left out. Returns how many got a link."""
    users = [user for user in users if user.email]
    if not users:
        return 0
    settings = settings_of(current_app)
    now = utcnow()
    expires_at = now + timedelta(days=settings.invitations.link_days)
    links, messages, events = [], [], []
    for user in users:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        links.append({"user": user.id, "token_hash": hash_token(token), "expires_at": expires_at, "created_at": now})
        messages.append({"recipient": user.email, "subject": f"Join {org.name} on Ally", "kind": "invitation",
                         "body": _body(user, org, f"{settings.public_url}/join/{token}", expires_at),
                         "organisation": org})
        events.append((user.id, user.user_name, {"invitation_expires_at": [None, isoformat(expires_at)]}))
    revoke_open(users)
    insert_rows(Invitation, links)
    outbox.enqueue_many(messages)
    audit.record_many("user.invited", organisation=org, target_type="user", targets=events)
    return len(users)


def revoke_open(users) -> int:
    """Invalidate every link of the users (a User or a list of them) that was neither used nor
    revoked. Returns how many."""
    ids = [user.id for user in users] if isinstance(users, list) else [users.id]
    now = Invitation.revoked_at.db_value(utcnow())
    return sum(cached_execute(("revoke_open", len(batch)), lambda batch=batch: Invitation.update(revoked_at=now).where(
        _open_links(batch)), [now, *batch]).rowcount for batch in batches(ids, BATCH))


def _open_links(user_ids):
    return Invitation.user.in_(user_ids) & Invitation.accepted_at.is_null() & Invitation.revoked_at.is_null()


def usable(token: str) -> Invitation:
    """The link's invitation, unchanged; refused when unknown, revoked, used or expired."""
    invitation = Invitation.get_or_none(Invitation.token_hash == hash_token(token or ""))
    if invitation is None or invitation.revoked_at is not None:
        raise InvalidInvitation(InvalidInvitation.UNKNOWN)
    if invitation.accepted_at is not None:
        raise InvalidInvitation(InvalidInvitation.USED)
    if invitation.expires_at <= utcnow():
        raise InvalidInvitation(InvalidInvitation.EXPIRED)
    return invitation


def redeem(token: str) -> Invitation:
    """Mark the link used and return it; refused as `usable` refuses."""
    invitation = usable(token)
    invitation.accepted_at = utcnow()
    invitation.save()
    return invitation


def _body(user, org, link: str, expires_at) -> str:
    greeting = user.given_name or user.display_name or user.email
    return (f"Hello {greeting},\n\n"
            f"You have been invited to join {org.name} on Ally, where your teams set and track their OKRs.\n\n"
            f"Join here: {link}\n\n"
            f"The link works once and expires on {expires_at:%Y-%m-%d %H:%M} UTC.\n")
