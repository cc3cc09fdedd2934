"""Delivering the outbox: one pass (`ally-scim mail send`), a loop (`ally-scim mail worker`) and
the same loop on a background thread inside each `ally-scim serve` worker process.

Any number of these may run at once, on one host or many: claims (connector.outbox.claim) make
sure each message is in the hands of one worker at a time. Delivery is at-least-once: if a
worker dies after the SMTP server accepted a message but before the database says "sent", the
claim expires and another worker sends it again, with the same Message-ID.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from connector import outbox
from connector.clock import utcnow
from connector.config import MailSettings
from connector.db import database
from connector.mailer import DeliveryFailed, SmtpMailer, build_email

log = logging.getLogger(__name__)


@dataclass
class PassResult:
    """What one pass did: messages sent, rescheduled, marked failed, handed back unattempted."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed


def run_once(settings: MailSettings, *, now: datetime | None = None,
             stop: threading.Event | None = None) -> PassResult:
    """Deliver every message due at `now` (default: the current time), batch by batch, until none
    is left or `stop` is set. The pass's clock starts at `now` and runs on in real time."""
    clock = _pass_clock(now)
    result = PassResult()
    with SmtpMailer(settings) as mailer:
        while not _stopping(stop):
            batch = outbox.claim(limit=settings.batch_size, lease_seconds=settings.lease_seconds, now=clock())
            if not batch:
                break
            _deliver_batch(batch, mailer, settings, clock, stop, result)
    return result


def _deliver_batch(batch, mailer, settings, clock, stop, result: PassResult) -> None:
    half_lease = timedelta(seconds=settings.lease_seconds / 2)
    for message in batch:
        # Start a send only while half the lease is left, so it ends before anyone may reclaim.
        if _stopping(stop) or clock() > message.claimed_until - half_lease:
            outbox.release(message)
            result.count("released")
            continue
        result.count(_deliver(message, mailer, settings, clock))


def _deliver(message, mailer: SmtpMailer, settings: MailSettings, clock) -> str:
    try:
        mailer.send(build_email(message, settings.sender))
    except DeliveryFailed as failure:
        outcome = outbox.mark_failure(message, failure.reason, permanent=failure.permanent,
                                      now=clock(), settings=settings)
        log.warning("outbox message %s to %s: %s (%s)", message.id, message.recipient, failure.reason, outcome)
        return outcome
    outbox.mark_sent(message, now=clock())
    return "sent"


def _pass_clock(start: datetime | None):
    origin = start or utcnow()
    began = time.monotonic()
    return lambda: origin + timedelta(milliseconds=int((time.monotonic() - began) * 1000))


def _stopping(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


def run_worker(settings: MailSettings, stop: threading.Event, *, interval: float | None = None,
               on_pass=None) -> None:
    """Run passes every `interval` seconds (default mail.poll_seconds) until `stop` is set. Each pass
    has its own database connection; a failing pass (database away) is logged and tried again."""
    interval = settings.poll_seconds if interval is None else interval
    while not stop.is_set():
        try:
            with database.connection_context():
                result = run_once(settings, stop=stop)
        except Exception:  # noqa: BLE001 - the loop must outlive a database or network hiccup
            log.exception("mail delivery pass failed; next try in %s s", interval)
        else:
            if result.attempted:
                log.info("mail: %d sent, %d retrying, %d failed", result.sent, result.retrying, result.failed)
            if on_pass:
                on_pass(result)
        stop.wait(interval)


class BackgroundWorker:
    """run_worker on a daemon thread, for `ally-scim serve` (one per gunicorn worker process)."""

    def __init__(self, settings: MailSettings, interval: float | None = None):
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=run_worker, args=(settings, self.stop_event),
                                       kwargs={"interval": interval}, name="ally-mail-worker", daemon=True)

    def start(self) -> BackgroundWorker:
        self.thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to stop after the message in hand and wait for it (up to timeout)."""
        self.stop_event.set()
        self.thread.join(timeout)
