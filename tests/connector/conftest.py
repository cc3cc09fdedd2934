"""Fixtures for the Ally directory tests: the demo organisation and a way to add users."""
from __future__ import annotations

import re

import pytest

from connector import directory
from connector.models import OutboxMessage
from connector.organisations import find_organisation

JOIN_LINK = re.compile(r"https://ally\.test/join/(\S+)")


@pytest.fixture
def org(db):
    """Acme Corp: auto-join domain acme.example, outside domains invited, admin group "Ally Admins"."""
    return find_organisation("acme")


@pytest.fixture
def make_user(org):
    """Create a user in `org` (by default) whose userName is also their work email."""

    def make(user_name, *, organisation=None, email=None, **kwargs):
        emails = [{"value": email or user_name, "type": "work", "primary": True}] if (email or "@" in user_name) else []
        return directory.create_user(organisation or org, {"user_name": user_name}, values={"emails": emails}, **kwargs)

    return make


def join_token(recipient: str) -> str:
    """The token in the last invitation mailed to recipient (from the real outbox row)."""
    message = (OutboxMessage.select().where(OutboxMessage.recipient == recipient)
               .order_by(OutboxMessage.id.desc()).first())
    assert message is not None, f"no email queued for {recipient}"
    return JOIN_LINK.search(message.body).group(1)


@pytest.fixture
def idp_token(db):
    """A real long-lived bearer token of the "acme" organisation, made through oauth's API
    (as `ally-scim token create --org acme` does)."""
    from tests.oauth.helpers import acme, bearer_token

    return bearer_token(acme(), name="Okta")


@pytest.fixture
def scim(client, idp_token):
    """The SCIM API of the real app, as the acme organisation's IdP calls it."""
    from tests.helpers import Api

    return Api(client, headers={"Authorization": f"Bearer {idp_token}"})
