"""Protection of the real connector against bad input and slow statements: over-long values are
refused naming the SCIM attribute (never a column), bad text never reaches PostgreSQL, and a
statement PostgreSQL cancels (server.statement_timeout_seconds) is a 503 with the request id."""
from __future__ import annotations

import psycopg
import pytest

from connector.commands import CliState
from connector.config import ConfigError, settings_from_dict
from connector.db import database, is_postgres
from tests.helpers import assert_scim_error

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.mark.parametrize("attributes,named,limit", [
    ({"userName": "u" * 321}, "userName", 320),
    ({"displayName": "d" * 501}, "displayName", 500),
    ({"name": {"givenName": "g" * 256}}, "name.givenName", 255),
    ({"emails": [{"value": "e" * 321 + "@acme.example"}]}, "emails.value", 320),
    ({"emails": [{"value": "e@acme.example", "display": "x" * 501}]}, "emails.display", 500),
    ({ENTERPRISE: {"department": "x" * 256}}, f"{ENTERPRISE}:department", 255),
])
def test_over_long_user_values_name_the_scim_attribute(scim, attributes, named, limit):
    body = {"schemas": [USER], "userName": "kim@acme.example", **attributes}
    assert_scim_error(scim.post("/Users", body), 400, "invalidValue",
                      f"The value of '{named}' is longer than {limit} characters.")


def test_over_long_values_in_put_patch_and_groups(scim):
    user = scim.create_user("kim@acme.example")
    refused = scim.ops(f"/Users/{user['id']}", {"op": "replace", "path": "title", "value": "t" * 256})
    assert_scim_error(refused, 400, "invalidValue", "The value of 'title' is longer than 255 characters.")
    body = {"schemas": [USER], "userName": "kim@acme.example", "externalId": "x" * 256}
    assert_scim_error(scim.put(f"/Users/{user['id']}", body), 400, "invalidValue",
                      "The value of 'externalId' is longer than 255 characters.")
    assert_scim_error(scim.post("/Groups", {"schemas": [GROUP], "displayName": "g" * 256}), 400, "invalidValue",
                      "The value of 'displayName' is longer than 255 characters.")
    assert scim.get(f"/Users/{user['id']}").get_json()["meta"]["version"] == user["meta"]["version"]


DOTTED_I = "\u0130"  # "İ": one character, two in lower case ("i" and a combining dot above)


def test_values_whose_lower_case_key_does_not_fit_are_refused(scim):
    """A userName, email or team name is compared by its lower-case form, kept in a column of the
    same length: 170 "İ" fit in 320 characters, their 340-character key does not (on PostgreSQL
    a 500; SQLite keeps any length)."""
    long_name = DOTTED_I * 170 + "@acme.example"
    lowered = "is longer than {} characters in lower case, as it is compared."
    assert_scim_error(scim.post("/Users", {"schemas": [USER], "userName": long_name}), 400, "invalidValue",
                      f"The value of 'userName' {lowered.format(320)}")
    body = {"schemas": [USER], "userName": "kim@acme.example", "emails": [{"value": long_name}]}
    assert_scim_error(scim.post("/Users", body), 400, "invalidValue", f"The value of 'emails.value' {lowered.format(320)}")
    user = scim.create_user("kim@acme.example")
    refused = scim.ops(f"/Users/{user['id']}", {"op": "replace", "path": "userName", "value": long_name})
    assert_scim_error(refused, 400, "invalidValue", f"The value of 'userName' {lowered.format(320)}")
    group_name = DOTTED_I * 200
    assert_scim_error(scim.post("/Groups", {"schemas": [GROUP], "displayName": group_name}), 400, "invalidValue",
                      f"The value of 'displayName' {lowered.format(255)}")
    group = scim.post("/Groups", {"schemas": [GROUP], "displayName": "Tour Guides"}).get_json()
    refused = scim.ops(f"/Groups/{group['id']}", {"op": "replace", "path": "displayName", "value": group_name})
    assert_scim_error(refused, 400, "invalidValue", f"The value of 'displayName' {lowered.format(255)}")
    assert scim.get(f"/Users/{user['id']}").get_json()["meta"]["version"] == user["meta"]["version"]


def test_bad_text_never_reaches_the_database(scim):
    user = scim.create_user("kim@acme.example")
    assert_scim_error(scim.post("/Users", '{"schemas": ["%s"], "userName": "a\\u0000@acme.example"}' % USER),
                      400, "invalidValue", "a NUL character")
    assert_scim_error(scim.get(f"/Users/{user['id']}%00"), 400, "invalidValue", "a NUL character")
    assert_scim_error(scim.get('/Users?filter=userName eq "k\\ud800"'), 400, "invalidFilter", "a lone surrogate")
    assert_scim_error(scim.get('/Groups?filter=displayName eq "k\\u0000"'), 400, "invalidFilter", "a NUL character")


@pytest.fixture
def slow_config(config_data):
    config_data["server"] = {"statement_timeout_seconds": 1}
    return config_data


@pytest.fixture
def user_table_locked(app, db_url):
    """Another session holds an exclusive lock on the user table until the test ends, so any
    statement reading it waits (PostgreSQL only)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("statement_timeout is PostgreSQL's")
    holder = psycopg.connect(db_url)
    holder.cursor().execute('LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE')
    yield
    holder.rollback()
    holder.close()


def test_a_statement_past_the_timeout_is_a_503_with_the_request_id(slow_config, scim, user_table_locked):
    response = scim.get("/Users", headers={"X-Request-Id": "slow-1"})
    body = assert_scim_error(response, 503, None, "The database did not answer in time; try again later.")
    assert "Request id: slow-1." in body["detail"] and response.headers["X-Request-Id"] == "slow-1"


def test_outside_scim_a_statement_past_the_timeout_is_a_json_503(slow_config, app, user_table_locked):
    from connector.models import User

    @app.get("/test-slow")
    def slow():
        return {"users": User.select().count()}

    response = app.test_client().get("/test-slow")
    assert response.status_code == 503
    assert response.get_json()["request_id"] == response.headers["X-Request-Id"]


def test_cli_commands_run_without_the_statement_timeout(app, config_file, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("statement_timeout is PostgreSQL's")
    with app.app_context():
        database.connect(reuse_if_open=True)
        assert database.execute_sql("SHOW statement_timeout").fetchone()[0] == "30s"
        database.close()
    cli_app = CliState(str(config_file)).app
    with cli_app.app_context():
        database.connect(reuse_if_open=True)
        assert is_postgres() and database.execute_sql("SHOW statement_timeout").fetchone()[0] == "0"
        database.close()


def test_the_statement_timeout_must_be_below_the_request_timeout():
    with pytest.raises(ConfigError, match="server.statement_timeout_seconds: must be below server.timeout_seconds"):
        settings_from_dict({"server": {"timeout_seconds": 20, "statement_timeout_seconds": 20}})
    assert settings_from_dict({"server": {"statement_timeout_seconds": 0}}).server.statement_timeout_seconds == 0
