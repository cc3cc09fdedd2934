"""Claims: two workers never send one message (threads with their own connections, and separate
processes), a crashed worker's messages are reclaimed when its lease runs out, and a stopping
worker hands back what it has not started."""
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from connector import delivery, outbox
from connector.clock import utcnow
from connector.db import database
from connector.delivery import run_once
from connector.mailer import SmtpMailer, build_email
from connector.models import OutboxMessage
from tests.connector.smtp_server import mail_config, smtp_server  # noqa: F401

MESSAGES = 60


@pytest.fixture
def config_data(config_data, smtp_server):  # noqa: F811 - the fixture from smtp_server
    config_data["mail"] = mail_config(smtp_server, batch_size=4)
    return config_data


def enqueue_many(count=MESSAGES):
    with database.atomic():
        return [outbox.enqueue(recipient=f"user{i:03d}@outside.example", subject="Join Ally",
                               body="Join: https://ally.test/join/x", kind="invitation") for i in range(count)]


def assert_each_delivered_once(handler, count=MESSAGES):
    recipients = Counter(handler.recipients())
    assert sorted(recipients) == [f"user{i:03d}@outside.example" for i in range(count)]
    assert set(recipients.values()) == {1}
    ids = Counter(item.message["Message-ID"] for item in handler.received)
    assert len(ids) == count and set(ids.values()) == {1}
    assert set(OutboxMessage.select(OutboxMessage.status, OutboxMessage.attempts).tuples()) == {("sent", 1)}


def test_two_threaded_workers_send_each_message_once(db, settings, smtp_server):
    enqueue_many()
    db.close()
    start = threading.Barrier(2)
    results, errors = [], []

    def work():
        start.wait()
        try:
            with database.connection_context():  # each thread has its own connection
                results.append(run_once(settings.mail))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    assert sum(result.sent for result in results) == MESSAGES
    assert_each_delivered_once(smtp_server.handler)


@pytest.mark.slow
def test_two_worker_processes_send_each_message_once(db, settings, smtp_server, config_file):
    enqueue_many()
    db.close()
    command = [str(Path(sys.executable).parent / "ally-scim"), "--config", str(config_file), "mail", "send"]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "ALLY_CONFIG": str(config_file)}) for _ in range(2)]
    outputs = [worker.communicate(timeout=120) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0], outputs
    sent = [int(out.split(",")[0].removeprefix("sent ")) for out, _ in outputs]
    assert sum(sent) == MESSAGES
    assert_each_delivered_once(smtp_server.handler)


def test_a_claim_takes_only_pending_due_unclaimed_messages(db, settings):
    due, later, sent = enqueue_many(3)
    now = utcnow() + timedelta(seconds=1)
    OutboxMessage.update(next_attempt_at=now + timedelta(minutes=5)).where(OutboxMessage.id == later.id).execute()
    OutboxMessage.update(status="sent").where(OutboxMessage.id == sent.id).execute()

    first = outbox.claim(limit=10, lease_seconds=300, now=now)
    second = outbox.claim(limit=10, lease_seconds=300, now=now)

    assert [m.id for m in first] == [due.id]
    assert first[0].claimed_until == now + timedelta(seconds=300)
    assert second == []


def test_a_crashed_workers_messages_are_reclaimed_after_the_lease(db, settings, smtp_server):
    messages = enqueue_many(3)
    now = utcnow() + timedelta(seconds=1)
    lease = settings.mail.lease_seconds
    crashed = outbox.claim(limit=10, lease_seconds=lease, now=now)  # then the worker died
    assert len(crashed) == 3

    assert run_once(settings.mail, now=now + timedelta(seconds=lease - 1)).attempted == 0
    assert smtp_server.handler.received == []

    result = run_once(settings.mail, now=now + timedelta(seconds=lease + 1))
    assert result.sent == 3
    assert_each_delivered_once(smtp_server.handler, 3)
    assert not outbox.mark_sent(crashed[0], now=now), "the dead worker's claim no longer counts"
    assert OutboxMessage.get_by_id(messages[0].id).attempts == 1


def test_a_crash_after_the_server_accepted_sends_a_copy_with_the_same_message_id(db, settings, smtp_server):
    """What SMTP cannot prevent: the server accepted DATA (250) but the worker died before the
    database said 'sent'. The message is sent again after the lease; both copies carry one
    Message-ID (RFC 5322 §3.6.4), which receiving systems can use to drop the second."""
    [message] = enqueue_many(1)
    now = utcnow() + timedelta(seconds=1)
    [claimed] = outbox.claim(limit=1, lease_seconds=settings.mail.lease_seconds, now=now)
    with SmtpMailer(settings.mail) as mailer:
        mailer.send(build_email(claimed, settings.mail.sender))  # ... and the worker dies here

    assert run_once(settings.mail, now=now + timedelta(seconds=settings.mail.lease_seconds + 1)).sent == 1

    copies = smtp_server.handler.received
    assert len(copies) == 2
    assert copies[0].message["Message-ID"] == copies[1].message["Message-ID"]
    assert OutboxMessage.get_by_id(message.id).status == "sent"


def test_a_stopping_worker_hands_back_what_it_has_not_started(db, settings, smtp_server):
    enqueue_many(4)
    stop = threading.Event()
    smtp_server.handler.on_accept = stop.set
    result = run_once(settings.mail, stop=stop)

    assert (result.sent, result.released) == (1, 3)
    rows = list(OutboxMessage.select().where(OutboxMessage.status == "pending"))
    assert len(rows) == 3
    assert {(m.attempts, m.claim_token, m.claimed_until) for m in rows} == {(0, None, None)}


def test_a_send_starts_only_while_half_the_lease_is_left(db, settings, smtp_server):
    enqueue_many(2)
    now = utcnow() + timedelta(seconds=1)
    lease = settings.mail.lease_seconds
    batch = outbox.claim(limit=10, lease_seconds=lease, now=now)
    result = delivery.PassResult()
    late = now + timedelta(seconds=lease / 2 + 1)

    with SmtpMailer(settings.mail) as mailer:
        delivery._deliver_batch(batch, mailer, settings.mail, lambda: late, None, result)

    assert (result.sent, result.released) == (0, 2)
    assert smtp_server.handler.received == []
    assert OutboxMessage.select().where(OutboxMessage.claim_token.is_null(False)).count() == 0
