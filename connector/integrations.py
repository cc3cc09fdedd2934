"""Settings of one IdP connection (an integration): today its own "Skip Invitation Email",
which applies on top of the organisation's. The connection is the credential the request came
with; the SCIM backends ask `skips_invitations()` for the current request."""
from __future__ import annotations

from flask import g, has_request_context

from connector import audit
from connector.clock import utcnow
from connector.db import cached_select, write_transaction
from connector.models import IntegrationSetting


def set_skip_invitations(key: str, skip: bool, *, organisation=None, label: str | None = None) -> None:
    with write_transaction():
        current = IntegrationSetting.get_or_none(IntegrationSetting.key == key)
        before = bool(current and current.skip_invitations)
        (IntegrationSetting.insert(key=key, skip_invitations=skip, updated_at=utcnow())
         .on_conflict(conflict_target=[IntegrationSetting.key],
                      update={IntegrationSetting.skip_invitations: skip, IntegrationSetting.updated_at: utcnow()})
         .execute())
        if before != skip:
            audit.record("integration.updated", organisation=organisation, target_type="integration", target_id=key,
                         target_label=label, changes={"skip_invitations": [before, skip]})


def skip_flags(keys) -> dict[str, bool]:
    """{key: skip_invitations} for the given connections (absent: False), in one query."""
    keys = list(keys)
    rows = cached_select(("skip_flags", len(keys)), lambda: IntegrationSetting.select(
        IntegrationSetting.key, IntegrationSetting.skip_invitations).where(IntegrationSetting.key.in_(keys)).tuples(), keys)
    return dict(rows)


def skips_invitations() -> bool:
    """Whether the current request's IdP connection skips invitation emails."""
    key = g.get("credential_key") if has_request_context() else None
    if not key:
        return False
    return bool(skip_flags([key]).get(key))
