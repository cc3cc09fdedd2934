"""Changing Users: a PATCH or PUT is one transaction (a failing operation changes nothing), and
If-Match is compare-and-set (RFC 7644 §3.14), also when two requests race."""
import threading

import pytest

from connector.models import AuditEvent, User
from tests.helpers import Api, assert_scim_error

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def ann(scim):
    return scim.create_user("ann@acme.example", title="Engineer", name={"givenName": "Ann"})


def unchanged(user_id, version=1, title="Engineer"):
    row = User.get_by_id(user_id)
    return row.version == version and row.title == title and row.status == "active"


def test_a_failing_operation_changes_nothing(scim, ann):
    """RFC 7644 §3.5.2: "If a single operation encounters an error condition, the original
    SCIM resource MUST be restored" — here the last operation names an unknown manager."""
    response = scim.ops(f"/Users/{ann['id']}",
                        {"op": "replace", "path": "title", "value": "CTO"},
                        {"op": "replace", "path": "active", "value": False},
                        {"op": "add", "path": "phoneNumbers", "value": [{"value": "+1 555 0100"}]},
                        {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": "nobody"})
    assert_scim_error(response, 400, "invalidValue", "The manager 'nobody' is not a user of this organisation")
    assert unchanged(ann["id"])
    assert "phoneNumbers" not in scim.get(f"/Users/{ann['id']}").get_json()
    assert [e.action for e in AuditEvent.select().where(AuditEvent.target_id == ann["id"])] == ["user.created"]


def test_a_refused_rename_changes_nothing(scim, ann):
    scim.create_user("bob@acme.example")
    response = scim.ops(f"/Users/{ann['id']}", {"op": "replace", "path": "title", "value": "CTO"},
                        {"op": "replace", "path": "userName", "value": "BOB@acme.example"})
    assert_scim_error(response, 409, "uniqueness", "A user with the userName 'BOB@acme.example' already exists")
    assert unchanged(ann["id"])


def test_a_failing_put_changes_nothing(scim, ann):
    body = {"schemas": [USER], "userName": "ann@acme.example", "title": "CTO", "active": False,
            ENTERPRISE: {"manager": {"value": ann["id"]}}}
    assert_scim_error(scim.put(f"/Users/{ann['id']}", body), 400, "invalidValue",
                      "ann@acme.example cannot be their own manager")
    assert unchanged(ann["id"])


def test_if_match_with_an_old_version_is_412(scim, ann):
    """RFC 7644 §3.14: If-Match that does not match → 412 Precondition Failed."""
    first = scim.ops(f"/Users/{ann['id']}", {"op": "replace", "path": "title", "value": "CTO"},
                     headers={"If-Match": 'W/"1"'})
    assert first.status_code == 200 and first.headers["ETag"] == 'W/"2"'
    again = scim.ops(f"/Users/{ann['id']}", {"op": "replace", "path": "title", "value": "CEO"},
                     headers={"If-Match": 'W/"1"'})
    assert_scim_error(again, 412, None, "ann@acme.example has changed since version 1")
    assert_scim_error(scim.delete(f"/Users/{ann['id']}", headers={"If-Match": 'W/"1"'}), 412)
    assert unchanged(ann["id"], version=2, title="CTO")
    assert scim.get(f"/Users/{ann['id']}", headers={"If-None-Match": 'W/"2"'}).status_code == 304


def test_a_no_op_with_an_old_version_is_412_too(scim, ann):
    scim.ops(f"/Users/{ann['id']}", {"op": "replace", "path": "title", "value": "CTO"})
    stale = scim.ops(f"/Users/{ann['id']}", {"op": "replace", "path": "active", "value": True},
                     headers={"If-Match": 'W/"1"'})
    assert_scim_error(stale, 412)


def test_two_puts_with_the_same_if_match_one_wins(app, client, scim, idp_token, ann):
    """Two IdP workers send a PUT for the same user at the same moment, both as of version 1:
    exactly one succeeds and the other gets 412, whichever reaches the database first."""
    barrier, answers = threading.Barrier(2), []

    def put(title):
        api = Api(app.test_client(), headers={"Authorization": f"Bearer {idp_token}"})
        body = {"schemas": [USER], "userName": "ann@acme.example", "title": title, "active": True}
        barrier.wait()
        answers.append((title, api.put(f"/Users/{ann['id']}", body, headers={"If-Match": 'W/"1"'})))

    threads = [threading.Thread(target=put, args=(title,)) for title in ("CTO", "CEO")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(response.status_code for _, response in answers) == [200, 412]
    winner = next(title for title, response in answers if response.status_code == 200)
    loser = next(response for _, response in answers if response.status_code == 412)
    assert_scim_error(loser, 412, None, "has changed since version 1")
    stored = User.get_by_id(ann["id"])
    assert (stored.version, stored.title) == (2, winner)
