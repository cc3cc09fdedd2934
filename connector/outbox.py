"""The durable mail outbox. Writers enqueue inside their own transaction, so a message exists
exactly when the change that caused it was committed; delivery happens later, elsewhere."""
from __future__ import annotations

from connector.models import OutboxMessage


def enqueue(*, recipient: str, subject: str, body: str, kind: str, organisation=None) -> OutboxMessage:
    return OutboxMessage.create(organisation=organisation, kind=kind, recipient=recipient,
                                subject=subject, body=body)
