"""`ally-scim mail send|worker|list|retry` and the delivery worker inside `ally-scim serve`,
against a real SMTP server on 127.0.0.1."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from connector import outbox
from connector.db import database
from connector.models import OutboxMessage
from tests.connector.smtp_server import free_port, mail_config, smtp_server  # noqa: F401
from tests.helpers import wait_until

TOKEN = "tok_0123456789abcdefghijklmnopqrstuv"
ALLY_SCIM = str(Path(sys.executable).parent / "ally-scim")


@pytest.fixture
def config_data(config_data, smtp_server):  # noqa: F811 - the fixture from smtp_server
    config_data["mail"] = mail_config(smtp_server, poll_seconds=1)
    return config_data


def invite(recipient):
    return outbox.enqueue(recipient=recipient, subject=f"Join Acme Corp on Ally, {recipient.split('@')[0]}",
                          body=f"Accept: https://ally.test/join/{TOKEN}\n", kind="invitation")


def test_send_delivers_what_is_due_and_says_what_happened(db, cli, smtp_server):
    smtp_server.handler.refuse["gone@outside.example"] = "550 5.1.1 no such user"
    invite("ann@outside.example"), invite("bob@outside.example"), invite("gone@outside.example")

    result = cli("mail", "send")

    assert result.exit_code == 0, result.output
    assert result.stdout == "sent 2, retrying 0, failed 1\n"
    assert sorted(smtp_server.handler.recipients()) == ["ann@outside.example", "bob@outside.example"]
    assert cli("mail", "send").stdout == "sent 0, retrying 0, failed 0\n"


def test_list_failed_shows_the_reason_and_never_the_join_link(db, cli, smtp_server):
    smtp_server.handler.refuse["gone@outside.example"] = "550 5.1.1 no such user"
    failed, sent = invite("gone@outside.example"), invite("ann@outside.example")
    cli("mail", "send")

    result = cli("mail", "list", "--failed")

    assert result.exit_code == 0
    header, row, *rest = result.stdout.splitlines()
    assert header.split() == ["ID", "STATUS", "ATTEMPTS", "NEXT", "ATTEMPT", "RECIPIENT", "SUBJECT", "LAST", "ERROR"]
    assert rest == []
    assert row.split()[:5] == [str(failed.id), "failed", "1", "-", "gone@outside.example"]
    assert "Join Acme Corp on Ally, gone" in row
    assert row.endswith("recipient gone@outside.example refused: 550 5.1.1 no such user")
    everything = cli("mail", "list", "--json").stdout
    assert TOKEN not in result.stdout + everything
    assert [m["id"] for m in json.loads(everything)] == [sent.id, failed.id]


def test_list_pending_shows_the_next_attempt(db, cli, smtp_server):
    smtp_server.stop()
    message = invite("ann@outside.example")
    cli("mail", "send")

    rows = json.loads(cli("mail", "list", "--pending", "--json").stdout)

    stored = OutboxMessage.get_by_id(message.id)
    assert rows == [{
        "id": message.id, "kind": "invitation", "recipient": "ann@outside.example",
        "subject": "Join Acme Corp on Ally, ann", "status": "pending", "attempts": 1,
        "next_attempt_at": stored.next_attempt_at.isoformat(timespec="milliseconds") + "Z",
        "last_error": f"connection refused by 127.0.0.1:{smtp_server.port} (is the mail server running?)",
        "created_at": stored.created_at.isoformat(timespec="milliseconds") + "Z", "sent_at": None,
    }]
    assert cli("mail", "list", "--failed").stdout == "no messages\n"


def test_retry_puts_a_failed_message_back(db, cli, smtp_server):
    smtp_server.handler.refuse["gone@outside.example"] = "550 5.1.1 no such user"
    message = invite("gone@outside.example")
    cli("mail", "send")
    smtp_server.handler.refuse.clear()

    result = cli("mail", "retry", str(message.id))

    assert result.exit_code == 0
    assert result.stdout == f"message {message.id} to gone@outside.example: pending again\n"
    assert cli("mail", "send").stdout == "sent 1, retrying 0, failed 0\n"
    assert smtp_server.handler.recipients() == ["gone@outside.example"]


def test_retry_refuses_what_is_not_failed(db, cli):
    message = invite("ann@outside.example")

    pending = cli("mail", "retry", str(message.id))
    assert pending.exit_code == 1
    assert pending.stderr == (f"Error: Outbox message {message.id} is pending, not failed: "
                              "only failed messages are retried\n")
    missing = cli("mail", "retry", "999999")
    assert (missing.exit_code, missing.stderr) == (1, "Error: No outbox message with id 999999\n")
    assert cli("mail", "retry", "abc").exit_code == 2
    assert cli("mail", "list", "--limit", "0").exit_code == 2
    assert cli("mail", "worker", "--interval", "0").exit_code == 2


@pytest.mark.parametrize("command", [("send",), ("worker",)])
def test_delivering_without_a_mail_server_is_refused(db, cli, monkeypatch, command):
    monkeypatch.setenv("ALLY_MAIL__SMTP_HOST", "")
    invite("ann@outside.example")

    result = cli("mail", *command)

    assert result.exit_code == 1
    assert result.stderr == ("Error: mail.smtp_host is not set, so no email can be sent: invitations wait in the "
                             "outbox until a mail server is configured (mail.smtp_host or ALLY_MAIL__SMTP_HOST)\n")
    assert OutboxMessage.get().status == "pending"


def test_list_without_a_mail_server_says_nothing_is_delivered(db, cli, monkeypatch):
    monkeypatch.setenv("ALLY_MAIL__SMTP_HOST", "")
    invite("ann@outside.example")

    result = cli("mail", "list")

    assert result.exit_code == 0
    assert "ann@outside.example" in result.stdout
    assert result.stderr == ("note: mail.smtp_host is not set, so pending messages are not being delivered "
                             "until a mail server is configured\n")


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_worker_delivers_until_told_to_stop(db, smtp_server, config_file, stop_signal):
    first = invite("ann@outside.example")
    db.close()
    worker = subprocess.Popen([ALLY_SCIM, "--config", str(config_file), "mail", "worker", "--interval", "0.2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: smtp_server.handler.recipients() == ["ann@outside.example"], "the first message")
        with database.connection_context():
            second = invite("bob@outside.example")
        wait_until(lambda: len(smtp_server.handler.recipients()) == 2, "a message enqueued while it runs")
        worker.send_signal(stop_signal)
        out, err = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == 0, err
    assert out.splitlines()[0].startswith(f"mail worker: delivering through 127.0.0.1:{smtp_server.port} every 0.2 s")
    assert out.splitlines()[-1] == "mail worker: stopped"
    with database.connection_context():
        assert {OutboxMessage.get_by_id(m.id).status for m in (first, second)} == {"sent"}


@pytest.mark.slow
def test_serve_delivers_the_outbox_from_each_worker_process(db, smtp_server, config_data, tmp_path):
    config_data["mail"]["worker_in_serve"] = True
    config = tmp_path / "serve.yaml"
    config.write_text(yaml.safe_dump(config_data))
    with database.atomic():
        messages = [invite(f"user{i:02d}@outside.example") for i in range(30)]
    db.close()
    port = free_port()
    server = subprocess.Popen([ALLY_SCIM, "--config", str(config), "serve", "--port", str(port), "--workers", "2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_until(lambda: len(smtp_server.handler.recipients()) >= len(messages), "serve to deliver the outbox")
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode == 0, err
    assert sorted(smtp_server.handler.recipients()) == [m.recipient for m in messages]
    with database.connection_context():
        assert {m.status for m in OutboxMessage.select()} == {"sent"}
