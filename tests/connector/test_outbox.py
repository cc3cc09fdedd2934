"""Outbox delivery over a real SMTP server (aiosmtpd on 127.0.0.1): content and headers, the
server down then up, retries with exponential backoff, refusals, giving up after max_attempts.

Time is driven by passing `now` to a pass; nothing sleeps through a backoff.
"""
from datetime import timedelta

import pytest

from connector import outbox
from connector.clock import utcnow
from connector.config import ConfigError, MailSettings, settings_from_dict
from connector.delivery import run_once
from connector.mailer import MailNotConfigured, build_email, message_id
from connector.models import Organisation, OutboxMessage
from tests.connector.smtp_server import mail_config, smtp_server  # noqa: F401

JOIN_LINK = "https://ally.test/join/tok_abcdefghijklmnop"


@pytest.fixture
def config_data(config_data, smtp_server):  # noqa: F811 - the fixture from smtp_server
    config_data["mail"] = mail_config(smtp_server)
    return config_data


def invite(recipient="new.hire@outside.example", subject="You are invited to Ally"):
    return outbox.enqueue(recipient=recipient, subject=subject, kind="invitation",
                          body=f"Hello,\n\nJoin Acme Corp on Ally: {JOIN_LINK}\n",
                          organisation=Organisation.get(Organisation.slug == "acme"))


def reload(message):
    return OutboxMessage.get_by_id(message.id)


def test_delivers_the_email_with_its_headers(db, settings, smtp_server):
    message = invite()

    result = run_once(settings.mail)

    assert (result.sent, result.retrying, result.failed) == (1, 0, 0)
    [received] = smtp_server.handler.received
    assert received.mail_from == "no-reply@ally.example"
    assert received.rcpt_tos == ["new.hire@outside.example"]
    email = received.message
    assert email["From"] == "Ally <no-reply@ally.example>"
    assert email["To"] == "new.hire@outside.example"
    assert email["Subject"] == "You are invited to Ally"
    assert email["Auto-Submitted"] == "auto-generated"
    assert email["Date"]
    stamp = message.created_at.strftime("%Y%m%dT%H%M%S%f")
    assert email["Message-ID"] == f"<outbox.{message.id}.{stamp}@ally.example>"
    assert email.get_content_type() == "text/plain"
    assert JOIN_LINK in email.get_content()
    stored = reload(message)
    assert (stored.status, stored.attempts, stored.last_error) == ("sent", 1, None)
    assert stored.sent_at is not None
    assert (stored.claim_token, stored.claimed_until) == (None, None)


def test_message_id_is_the_same_on_every_attempt(db, settings):
    """RFC 5322 §3.6.4: the Message-ID identifies the message; a resend after a crash carries
    the same one, so receiving systems can recognise the copy."""
    first, second = invite(), invite()
    sender = settings.mail.sender
    assert build_email(first, sender)["Message-ID"] == build_email(reload(first), sender)["Message-ID"]
    assert message_id(first, sender) != message_id(second, sender)


def test_a_subject_with_a_line_break_fails_for_good(db, settings, smtp_server):
    message = invite(subject="Hello\r\nBcc: everyone@acme.example")

    result = run_once(settings.mail)

    assert result.failed == 1
    stored = reload(message)
    assert stored.status == "failed"
    assert stored.last_error.startswith("cannot build the email:")
    assert smtp_server.handler.received == []


def test_nothing_due_means_no_connection(db, settings, smtp_server):
    smtp_server.stop()
    now = utcnow()
    message = invite()
    OutboxMessage.update(next_attempt_at=now + timedelta(hours=1)).execute()

    result = run_once(settings.mail, now=now)

    assert (result.sent, result.retrying, result.failed) == (0, 0, 0)
    assert reload(message).attempts == 0


def test_server_down_then_up_loses_nothing(db, settings, smtp_server):
    smtp_server.stop()
    messages = [invite(f"person{i}@outside.example") for i in range(3)]
    now = utcnow()

    down = run_once(settings.mail, now=now)

    assert (down.sent, down.retrying, down.failed) == (0, 3, 0)
    for message in messages:
        stored = reload(message)
        assert (stored.status, stored.attempts) == ("pending", 1)
        assert stored.last_error == (f"connection refused by 127.0.0.1:{smtp_server.port} "
                                     "(is the mail server running?)")
        assert timedelta(seconds=60) <= stored.next_attempt_at - now < timedelta(seconds=61)
    smtp_server.start()

    too_early = run_once(settings.mail, now=now + timedelta(seconds=30))
    assert too_early.attempted == 0
    assert smtp_server.handler.received == []

    up = run_once(settings.mail, now=now + timedelta(seconds=62))
    assert up.sent == 3
    assert sorted(smtp_server.handler.recipients()) == [m.recipient for m in messages]
    assert {reload(m).status for m in messages} == {"sent"}
    assert {reload(m).attempts for m in messages} == {2}


def test_temporary_refusals_back_off_exponentially_then_fail(db, settings, smtp_server):
    """RFC 5321 §4.2.1: 4yz is a transient negative completion reply; the sender retries."""
    smtp_server.handler.temporary_failures = 10
    message = invite()
    now = utcnow()
    delays = []

    for attempt in (1, 2):
        result = run_once(settings.mail, now=now)
        assert result.retrying == 1
        stored = reload(message)
        assert stored.attempts == attempt
        assert stored.last_error == ("recipient new.hire@outside.example refused: "
                                     "421 4.3.2 Service not available, try again later")
        delays.append(stored.next_attempt_at - now)
        now = stored.next_attempt_at

    assert [d.total_seconds() // 1 for d in delays] == [60, 120]
    last = run_once(settings.mail, now=now)
    assert last.failed == 1
    stored = reload(message)
    assert (stored.status, stored.attempts) == ("failed", 3)
    assert "421 4.3.2" in stored.last_error


def test_backoff_is_capped(settings):
    mail = MailSettings(backoff_seconds=30, backoff_max_seconds=600)
    assert [outbox.backoff_delay(n, mail).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]
    assert outbox.backoff_delay(500, mail).total_seconds() == 600


def test_refused_recipient_fails_at_once_and_others_still_go(db, settings, smtp_server):
    """RFC 5321 §4.2.1: 5yz is a permanent negative completion reply; the same request will fail again."""
    smtp_server.handler.refuse["nobody@outside.example"] = "550 5.1.1 <nobody@outside.example>: user unknown"
    refused = invite("nobody@outside.example")
    fine = invite("somebody@outside.example")

    result = run_once(settings.mail)

    assert (result.sent, result.retrying, result.failed) == (1, 0, 1)
    stored = reload(refused)
    assert (stored.status, stored.attempts) == ("failed", 1)
    assert stored.last_error == ("recipient nobody@outside.example refused: "
                                 "550 5.1.1 <nobody@outside.example>: user unknown")
    assert reload(fine).status == "sent"
    assert smtp_server.handler.recipients() == ["somebody@outside.example"]


def test_a_failed_message_can_be_retried(db, settings, smtp_server):
    smtp_server.handler.refuse["nobody@outside.example"] = "550 5.1.1 user unknown"
    message = invite("nobody@outside.example")
    run_once(settings.mail)
    del smtp_server.handler.refuse["nobody@outside.example"]

    outbox.retry_failed(message.id)
    stored = reload(message)
    assert (stored.status, stored.attempts) == ("pending", 0)
    assert run_once(settings.mail).sent == 1
    assert reload(message).status == "sent"


def test_only_failed_messages_are_retried(db, settings):
    message = invite()
    with pytest.raises(outbox.AllyError, match=f"Outbox message {message.id} is pending, not failed"):
        outbox.retry_failed(message.id)
    with pytest.raises(outbox.NotFound, match="No outbox message with id 424242"):
        outbox.retry_failed(424242)


def test_nothing_is_sent_without_a_mail_server(db, settings):
    invite()
    unconfigured = MailSettings(smtp_host=None)
    with pytest.raises(MailNotConfigured, match="mail.smtp_host is not set"):
        run_once(unconfigured)
    assert OutboxMessage.get().status == "pending"



@pytest.mark.parametrize("mail, message", [
    ({"username": "ally"}, "mail.username: mail.username and mail.password go together: set both or neither"),
    ({"lease_seconds": 100, "timeout_seconds": 30}, "mail.lease_seconds: must be at least 4 x mail.timeout_seconds (120)"),
    ({"backoff_seconds": 600, "backoff_max_seconds": 60}, "mail.backoff_max_seconds: must not be below mail.backoff_seconds"),
    ({"batch_size": 0}, "mail.batch_size: Must be greater than or equal to 1"),
])
def test_mail_settings_that_cannot_work_are_refused(mail, message):
    with pytest.raises(ConfigError) as caught:
        settings_from_dict({"mail": mail})
    assert message in str(caught.value)
