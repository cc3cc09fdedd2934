"""`ally-scim mail`: deliver the invitation outbox over SMTP, list it, retry failed messages.

Message bodies hold join links (secrets until used), so no command ever prints a body.
"""
from __future__ import annotations

import signal
import threading

import click

from connector.clock import isoformat
from connector.commands import ROW_COUNT, ROW_ID, echo_json, with_app
from connector.config import MailSettings
from connector.limits import shortened
from connector.mailer import MailNotConfigured

ERROR_WIDTH = 70


@click.group()
def mail():
    """Invitation emails: deliver the outbox over SMTP, list and retry messages."""


def _settings() -> MailSettings:
    from flask import current_app

    return current_app.config["ALLY_SETTINGS"].mail


def _configured() -> MailSettings:
    settings = _settings()
    if not settings.smtp_host:
        raise MailNotConfigured()
    return settings


def _note_not_configured(what: str) -> None:
    if not _settings().smtp_host:
        click.echo(f"note: mail.smtp_host is not set, so {what} until a mail server is configured", err=True)


def _summary(result) -> str:
    text = f"sent {result.sent}, retrying {result.retrying}, failed {result.failed}"
    return text + (f", handed back {result.released}" if result.released else "")


@mail.command()
@with_app
def send():
    """Deliver every message that is due, once, and print what happened."""
    from connector.delivery import run_once

    click.echo(_summary(run_once(_configured())))


@mail.command()
@click.option("--interval", type=click.FloatRange(min=0.1), metavar="SECONDS",
              help="Seconds between passes (default: mail.poll_seconds).")
@with_app
def worker(interval):
    """Deliver the outbox continuously until SIGTERM or Ctrl-C; the message in hand is finished first."""
    from connector.delivery import run_worker

    settings = _configured()
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    click.echo(f"mail worker: delivering through {settings.smtp_host}:{settings.smtp_port} "
               f"every {interval or settings.poll_seconds} s; stop with SIGTERM or Ctrl-C")
    try:
        run_worker(settings, stop, interval=interval,
                   on_pass=lambda result: result.attempted and click.echo(_summary(result)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("mail worker: stopped")


@mail.command("list")
@click.option("--failed", "statuses", flag_value="failed", multiple=True, help="Only failed messages.")
@click.option("--pending", "statuses", flag_value="pending", multiple=True, help="Only messages waiting to be sent.")
@click.option("--sent", "statuses", flag_value="sent", multiple=True, help="Only sent messages.")
@click.option("--limit", type=ROW_COUNT, help="Show at most this many (newest first).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array, one object per message.")
@with_app
def list_messages(statuses, limit, as_json):
    """List outbox messages, newest first (bodies are never shown: they hold join links)."""
    from connector import outbox

    rows = [_row(message) for message in outbox.listing(tuple(statuses), limit)]
    if as_json:
        echo_json(rows)
    else:
        _print_table(rows)
    if any(row["status"] == "pending" for row in rows):
        _note_not_configured("pending messages are not being delivered")


@mail.command()
@click.argument("message_id", metavar="ID", type=ROW_ID)
@with_app
def retry(message_id):
    """Put a failed message back to pending, with a fresh set of attempts, due now."""
    from connector import outbox

    message = outbox.retry_failed(message_id)
    click.echo(f"message {message.id} to {message.recipient}: pending again")
    _note_not_configured("it will not be delivered")


def _row(message) -> dict:
    return {
        "id": message.id,
        "kind": message.kind,
        "recipient": message.recipient,
        "subject": message.subject,
        "status": message.status,
        "attempts": message.attempts,
        "next_attempt_at": isoformat(message.next_attempt_at) if message.status == "pending" else None,
        "last_error": message.last_error,
        "created_at": isoformat(message.created_at),
        "sent_at": isoformat(message.sent_at),
    }


def _print_table(rows: list[dict]) -> None:
    if not rows:
        click.echo("no messages")
        return
    columns = ("id", "status", "attempts", "next_attempt_at", "recipient", "subject", "last_error")
    headers = ("ID", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "RECIPIENT", "SUBJECT", "LAST ERROR")
    cells = [[_cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(h), *(len(line[i]) for line in cells)) for i, h in enumerate(headers)]
    for line in [list(headers), *cells]:
        click.echo("  ".join(value.ljust(width) for value, width in zip(line, widths)).rstrip())


def _cell(value) -> str:
    return shortened("-" if value is None else str(value), ERROR_WIDTH)
