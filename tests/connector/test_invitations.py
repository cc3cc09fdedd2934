"""Invitations: an email with a single-use, expiring join link, queued in the outbox; the
token is stored hashed; "Skip Invitation Email" per organisation or per request."""
import hashlib
from datetime import timedelta

import pytest

from connector import directory, invitations
from connector.clock import utcnow
from connector.errors import InvalidInvitation
from connector.models import Invitation, OutboxMessage, User
from connector.organisations import update_organisation
from tests.connector.conftest import join_token


def test_invitation_queues_an_email_with_the_join_link(org, make_user):
    user = make_user("ann@outside.example", email=None)
    message = OutboxMessage.get(OutboxMessage.recipient == "ann@outside.example")
    assert (message.kind, message.status, message.organisation_id) == ("invitation", "pending", org.id)
    assert message.subject == "Join Acme Corp on Ally"
    assert "https://ally.test/join/" in message.body
    invitation = Invitation.get(Invitation.user == user)
    assert invitation.expires_at - invitation.created_at == timedelta(days=14)


def test_token_is_stored_hashed(org, make_user):
    user = make_user("ann@outside.example")
    token = join_token("ann@outside.example")
    stored = Invitation.get(Invitation.user == user)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    assert len(token) >= 40


def test_work_domain_user_gets_no_invitation(org, make_user):
    make_user("bob@acme.example")
    assert OutboxMessage.select().count() == 0
    assert Invitation.select().count() == 0


def test_skip_invitation_per_request(org, make_user):
    user = make_user("cy@outside.example", skip_invitation=True)
    assert user.status == "invited"
    assert OutboxMessage.select().count() == 0


def test_skip_invitations_per_organisation(org, make_user):
    update_organisation(org, skip_invitations=True)
    user = make_user("di@outside.example")
    assert user.status == "invited"
    assert OutboxMessage.select().count() == 0
    assert Invitation.select().count() == 0


def test_user_without_email_is_invited_without_mail(org):
    user = directory.create_user(org, {"user_name": "no-mail"})
    assert (user.status, user.email) == ("invited", None)
    assert OutboxMessage.select().count() == 0


def test_link_is_single_use(org, make_user):
    make_user("eli@outside.example")
    token = join_token("eli@outside.example")
    directory.accept_invitation(token)
    with pytest.raises(InvalidInvitation) as caught:
        directory.accept_invitation(token)
    assert caught.value.message == "This invitation link has already been used"


def test_link_expires(org, make_user):
    user = make_user("flo@outside.example")
    token = join_token("flo@outside.example")
    Invitation.update(expires_at=utcnow() - timedelta(seconds=1)).where(Invitation.user == user).execute()
    with pytest.raises(InvalidInvitation) as caught:
        directory.accept_invitation(token)
    assert caught.value.message == "This invitation link has expired"
    assert User.get_by_id(user.id).status == "invited"


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 43])
def test_unknown_link_is_refused(org, token):
    with pytest.raises(InvalidInvitation) as caught:
        directory.accept_invitation(token)
    assert caught.value.message == "This invitation link is not valid"


def test_a_new_invitation_revokes_the_older_link(org, make_user):
    user = make_user("gil@outside.example")
    first = join_token("gil@outside.example")
    invitations.issue(user, org)
    second = join_token("gil@outside.example")
    with pytest.raises(InvalidInvitation):
        directory.accept_invitation(first)
    assert directory.accept_invitation(second).status == "active"


def test_deleted_users_link_is_not_valid(org, make_user):
    from connector import deletion

    user = make_user("hal@outside.example")
    token = join_token("hal@outside.example")
    deletion.delete_user(user)
    with pytest.raises(InvalidInvitation) as caught:
        directory.accept_invitation(token)
    assert caught.value.message == "This invitation link is not valid"


def test_invitation_audit_records_no_token(org, make_user):
    from connector.models import AuditEvent

    make_user("ida@outside.example")
    token = join_token("ida@outside.example")
    event = AuditEvent.get(AuditEvent.action == "user.invited")
    assert token not in str(event.changes)
    assert list(event.changes) == ["invitation_expires_at"]


def test_resend_invitation(org, make_user):
    user = make_user("joe@outside.example")
    first = join_token("joe@outside.example")
    directory.resend_invitation(user)
    assert join_token("joe@outside.example") != first
    assert OutboxMessage.select().where(OutboxMessage.recipient == "joe@outside.example").count() == 2


def test_resend_refusals(org, make_user):
    from connector.errors import AccountSuspended, InvalidValue

    joined = make_user("kai@acme.example")
    with pytest.raises(InvalidValue) as caught:
        directory.resend_invitation(joined)
    assert caught.value.message == "kai@acme.example has already joined"
    with pytest.raises(AccountSuspended) as caught:
        directory.resend_invitation(directory.suspend(make_user("lou@outside.example")))
    assert caught.value.message == "This account has been suspended"
