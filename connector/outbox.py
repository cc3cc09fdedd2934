"""The durable mail outbox. Writers enqueue inside their own transaction, so a message exists
exactly when the change that caused it was committed; delivery happens later, elsewhere
(connector.delivery).

Claims keep two workers from sending one message: a worker stamps due messages with its own
claim token and a lease (claimed_until) in one atomic UPDATE that only touches messages that are
pending, due, and unclaimed or whose lease has run out. On SQLite the write lock is taken up front
(BEGIN IMMEDIATE), so claims queue; on PostgreSQL the candidate rows are locked with
SELECT ... FOR UPDATE SKIP LOCKED, so concurrent workers take different rows without waiting.
Every outcome is written only while the worker still holds the claim (same token), and clears it.
A worker that dies mid-send leaves its claim to expire; another worker then sends the message
again (at-least-once delivery).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from peewee import fn

from connector.clock import utcnow
from connector.config import MailSettings
from connector.db import insert_rows, is_postgres, retry_on_conflict, write_transaction
from connector.errors import AllyError, NotFound
from connector.models import OutboxMessage, new_id

log = logging.getLogger(__name__)
STATUSES = ("pending", "sent", "failed")


def enqueue(*, recipient: str, subject: str, body: str, kind: str, organisation=None) -> OutboxMessage:
    return OutboxMessage.create(organisation=organisation, kind=kind, recipient=recipient,
                                subject=subject, body=body)


def enqueue_many(messages: list[dict]) -> None:
    """enqueue for many messages, each a dict of enqueue's arguments."""
    insert_rows(OutboxMessage, messages)


def _claimable(now: datetime):
    return ((OutboxMessage.status == "pending")
            & (OutboxMessage.next_attempt_at <= now)
            & (OutboxMessage.claimed_until.is_null() | (OutboxMessage.claimed_until < now)))


@retry_on_conflict
def claim(*, limit: int, lease_seconds: int, now: datetime) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for this worker until now + lease_seconds, oldest due first."""
    token = new_id()
    with write_transaction():
        due = (OutboxMessage.select(OutboxMessage.id).where(_claimable(now))
               .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
        if is_postgres():
            due = due.for_update(skip_locked=True)
        (OutboxMessage.update(claim_token=token, claimed_until=now + timedelta(seconds=lease_seconds))
         .where(OutboxMessage.id.in_(due) & _claimable(now)).execute())
        return list(OutboxMessage.select().where(OutboxMessage.claim_token == token)
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id))


def mark_sent(message: OutboxMessage, *, now: datetime) -> bool:
    return _settle(message, status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1, last_error=None)


def mark_failure(message: OutboxMessage, reason: str, *, permanent: bool, now: datetime,
                 settings: MailSettings) -> str:
    """Record a failed attempt: 'failed' when refused for good or out of attempts, else 'retrying'
    with the next attempt after an exponential backoff."""
    attempts = message.attempts + 1
    if permanent or attempts >= settings.max_attempts:
        _settle(message, status="failed", attempts=attempts, last_error=reason)
        return "failed"
    _settle(message, attempts=attempts, last_error=reason, next_attempt_at=now + backoff_delay(attempts, settings))
    return "retrying"


def release(message: OutboxMessage) -> bool:
    """Give a claimed message back unattempted (worker stopping, or too little lease left)."""
    return _settle(message)


def backoff_delay(attempts: int, settings: MailSettings) -> timedelta:
    """backoff_seconds after the first failed attempt, doubling with each one, up to the cap."""
    seconds = settings.backoff_seconds * 2 ** min(attempts - 1, 32)
    return timedelta(seconds=min(seconds, settings.backoff_max_seconds))


@retry_on_conflict
def _settle(message: OutboxMessage, **changes) -> bool:
    with write_transaction():
        updated = (OutboxMessage.update(claim_token=None, claimed_until=None, **changes)
                   .where((OutboxMessage.id == message.id) & (OutboxMessage.claim_token == message.claim_token))
                   .execute())
    if not updated:
        log.warning("outbox message %s: claim lost before its outcome was recorded (lease expired)", message.id)
    return updated == 1


def listing(statuses: tuple[str, ...] = (), limit: int | None = None) -> list[OutboxMessage]:
    """Messages, newest first, optionally only those with the given statuses."""
    query = OutboxMessage.select().order_by(OutboxMessage.id.desc())
    if statuses:
        query = query.where(OutboxMessage.status.in_(statuses))
    return list(query.limit(limit)) if limit else list(query)


def counts() -> dict[str, int]:
    found = dict(OutboxMessage.select(OutboxMessage.status, fn.COUNT(OutboxMessage.id))
                 .group_by(OutboxMessage.status).tuples())
    return {status: found.get(status, 0) for status in STATUSES}


@retry_on_conflict
def retry_failed(message_id: int, *, now: datetime | None = None) -> OutboxMessage:
    """Put a failed message back to pending with a fresh set of attempts, due at once."""
    with write_transaction():
        message = OutboxMessage.get_or_none(OutboxMessage.id == message_id)
        if message is None:
            raise NotFound(f"No outbox message with id {message_id}")
        if message.status != "failed":
            raise AllyError(f"Outbox message {message_id} is {message.status}, not failed: only failed messages are retried")
        message.status, message.attempts = "pending", 0
        message.next_attempt_at = now or utcnow()
        message.claim_token = message.claimed_until = None
        message.save()
    return message
