"""Invitations: a single-use, expiring join link, mailed through the outbox.

The link's token is shown only in the email; the database keeps its SHA-256 (the token is 256
random bits, so a fast hash is enough). Issuing a new link revokes the user's older ones.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app

from connector import outbox, settings_of, user_changes
from connector.clock import isoformat, utcnow
from connector.errors import InvalidInvitation
from connector.models import Invitation

TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def should_skip(org, skip_invitation: bool | None) -> bool:
    """No email when the organisation skips invitations or the caller asks to skip
    ("Skip Invitation Email"); None and False follow the organisation."""
    return bool(org.skip_invitations or skip_invitation)


def issue(user, org) -> Invitation | None:
    """Revoke the user's open links, make a new one and queue the email. None when the user
    has no email address to send it to."""
    if not user.email:
        return None
    revoke_open(user)
    settings = settings_of(current_app)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    expires_at = now + timedelta(days=settings.invitations.link_days)
    invitation = Invitation.create(user=user, token_hash=hash_token(token), expires_at=expires_at, created_at=now)
    link = f"{settings.public_url}/join/{token}"
    outbox.enqueue(recipient=user.email, subject=f"Join {org.name} on Ally", body=_body(user, org, link, expires_at),
                   kind="invitation", organisation=org)
    user_changes.record("user.invited", user, {"invitation_expires_at": [None, isoformat(expires_at)]})
    return invitation


def revoke_open(user) -> int:
    """Invalidate every link of the user that was neither used nor revoked."""
    return (Invitation.update(revoked_at=utcnow())
            .where((Invitation.user == user) & Invitation.accepted_at.is_null() & Invitation.revoked_at.is_null())
            .execute())


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
