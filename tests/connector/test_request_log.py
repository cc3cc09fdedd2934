"""Request ids (X-Request-Id) and the structured JSON log line every request writes."""
import json
import os
import re

import pytest
from flask import g
from hypothesis import given, settings
from hypothesis import strategies as st

from connector import request_log
from connector.logs import _REDACTIONS, redact
from connector.models import Organisation

UUID_HEX = re.compile(r"[0-9a-f]{32}")


def log_lines(captured: str) -> list[dict]:
    """Every line on stderr must be one JSON object; returns them in order."""
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def request_lines(captured: str) -> list[dict]:
    return [line for line in log_lines(captured) if line["logger"] == "connector.request"]


def test_sane_incoming_request_id_is_kept_and_returned(client):
    response = client.get("/healthz", headers={"X-Request-Id": "okta-Req.42_a"})
    assert response.headers["X-Request-Id"] == "okta-Req.42_a"


@pytest.mark.parametrize("incoming", [None, "", "has space", "x" * 65, "semi;colon", "ünïcode", "a\tb"])
def test_missing_or_unsafe_request_id_is_replaced_by_a_new_one(client, incoming):
    headers = {} if incoming is None else {"X-Request-Id": incoming}
    response = client.get("/healthz", headers=headers)
    assert UUID_HEX.fullmatch(response.headers["X-Request-Id"])


def test_each_request_gets_its_own_id(client):
    ids = {client.get("/healthz").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3


def test_a_forked_worker_makes_other_ids_than_its_parent():
    """gunicorn forks its workers from one master: their next ids must differ."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write_end, request_log.request_id_from(None).encode())
        os._exit(0)
    os.waitpid(child, 0)
    childs_id = os.read(read_end, 64).decode()
    os.close(read_end), os.close(write_end)
    assert UUID_HEX.fullmatch(childs_id)
    assert childs_id != request_log.request_id_from(None)


def test_request_id_is_in_g_for_the_rest_of_the_request(app, client):
    seen = []
    app.add_url_rule("/probe", "probe", lambda: seen.append(g.request_id) or "ok")
    response = client.get("/probe", headers={"X-Request-Id": "trace-1"})
    assert seen == ["trace-1"] == [response.headers["X-Request-Id"]]


def test_request_line_fields(app, client, capsys):
    @app.before_request
    def authenticated_as_okta():  # what the auth layer sets once it knows the credential
        g.organisation = Organisation.get(Organisation.slug == "acme")
        g.credential_name = "Okta provisioning"

    capsys.readouterr()
    client.get("/healthz?x=1", headers={"X-Request-Id": "line-test"})
    [line] = request_lines(capsys.readouterr().err)
    assert line["time"].endswith("Z") and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["level"] == "INFO"
    assert line["request_id"] == "line-test"
    assert line["organisation"] == "acme"
    assert line["client"] == "Okta provisioning"
    assert line["method"] == "GET"
    assert line["route"] == "/healthz"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_route_is_the_url_rule_not_the_path(app, client, capsys):
    app.add_url_rule("/things/<thing_id>", "thing", lambda thing_id: "ok")
    capsys.readouterr()
    client.get("/things/0f8fad5b-d9cb-469f-a165-70867728950e?filter=x")
    client.get("/nowhere/at/all")
    first, second = request_lines(capsys.readouterr().err)
    assert first["route"] == "/things/<thing_id>"
    assert (second["route"], second["status"]) == ("<unmatched>", 404)
    assert first["organisation"] is None and first["client"] is None


def test_log_level_from_settings_applies(config_data, capsys):
    from connector import create_app
    from connector.config import settings_from_dict

    app = create_app(settings_from_dict({**config_data, "log_level": "WARNING"}))
    capsys.readouterr()
    app.test_client().get("/healthz")
    assert request_lines(capsys.readouterr().err) == []


def test_no_tokens_secrets_or_emails_reach_the_log(app, client, capsys):
    token = "tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    email = "jane.doe@acme.example"
    password = "correct-horse-battery"

    @app.get("/explode")
    def explode():
        raise RuntimeError(f"failed for {email} with Bearer {token} and password={password}")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    auth = {"Authorization": f"Bearer {token}", "Cookie": f"session={token}"}
    capsys.readouterr()
    client.get(f"/healthz/{email}", headers=auth)
    client.get(f"/healthz?access_token={token}&filter=userName eq \"{email}\"", headers=auth)
    client.post("/healthz", json={"userName": email, "password": password, "token": token}, headers=auth)
    client.get(f"/explode?email={email}", headers=auth)
    captured = capsys.readouterr().err
    statuses = [line["status"] for line in request_lines(captured)]
    assert statuses == [404, 200, 405, 500]
    assert any("exception" in line for line in log_lines(captured))  # the 500's traceback was logged
    for secret in (token, email, password, "jane.doe"):
        assert secret not in captured


@pytest.mark.parametrize("text, expected", [
    ("Authorization: Bearer abc.DEF-123_456", "Authorization: Bearer <redacted>"),
    ("Basic dXNlcjpwYXNzd29yZA==", "Basic <redacted>"),
    ("/x?access_token=s3cr3t&count=10", "/x?access_token=<redacted>&count=10"),
    ("grant_type=authorization_code&code=abc&client_secret=xyz", "grant_type=authorization_code&code=<redacted>&client_secret=<redacted>"),
    ('{"password": "hunter2", "refresh_token": "r1"}', '{"password": "<redacted>", "refresh_token": "<redacted>"}'),
    ("postgresql://ally:pw@db.internal:5432/ally", "postgresql://<redacted>@db.internal:5432/ally"),
    ("duplicate key (email_key)=(o'brien+okta@sub.acme.example)", "duplicate key (email_key)=(<email>)"),
    ("GET /healthz 200", "GET /healthz 200"),
    ("the client uses basic auth", "the client uses basic auth"),
])
def test_redact(text, expected):
    assert redact(text) == expected


def test_structured_fields_from_any_logger_are_masked_too(capsys):
    import logging

    from connector.logs import configure_logging

    configure_logging("INFO")
    capsys.readouterr()
    logging.getLogger("connector.mailer").warning(
        "delivery to %s failed", "bob@acme.example",
        extra={"fields": {"recipients": ["bob@acme.example"], "smtp": {"url": "smtp://mailer:pa55@mx.internal"}}})
    [line] = log_lines(capsys.readouterr().err)
    assert line["message"] == "delivery to <email> failed"
    assert line["recipients"] == ["<email>"]
    assert line["smtp"] == {"url": "smtp://<redacted>@mx.internal"}
    assert line["level"] == "WARNING" and line["logger"] == "connector.mailer" and "request_id" not in line


_PIECES = st.sampled_from(["://", ":", "@", "=", '"', " ", "Bearer ", "basic ", "token", "password", "code",
                           "allyt_", "x" * 16, "acme.example", "user", "pw", "&", "?", "/", "'"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=12).map("".join))
def test_redact_skips_only_text_no_pattern_would_change(text):
    """The quick check in front of the patterns never lets through what one of them masks."""
    masked = text
    for pattern, replacement in _REDACTIONS:
        masked = pattern.sub(replacement, masked)
    assert redact(text) == masked


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["organisation", "client", "route", "detail"]),
                       st.one_of(st.lists(_PIECES, max_size=6).map("".join), st.integers(), st.none()), max_size=4),
       st.lists(_PIECES, max_size=6).map("".join))
def test_a_log_line_masks_each_of_its_strings_as_redact_does(fields, message):
    """The formatter checks a line's top-level strings together once: every field still comes
    out exactly as `redact` makes it on its own."""
    import logging

    from connector.logs import JsonFormatter

    record = logging.LogRecord("connector.request", logging.INFO, __file__, 1, "%s", (message,), None)
    record.fields = fields
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == redact(message)
    assert {key: line[key] for key in fields} == {key: redact(value) if isinstance(value, str) else value
                                                 for key, value in fields.items()}


def test_a_field_json_cannot_hold_is_written_as_its_text_redacted():
    import logging

    from connector.logs import JsonFormatter

    class Recipient:
        def __str__(self):
            return "Recipient(bob@acme.example)"

    record = logging.LogRecord("connector.mailer", logging.INFO, __file__, 1, "sent", (), None)
    record.fields = {"to": Recipient(), "more": {"to": Recipient()}}
    line = json.loads(JsonFormatter().format(record))
    assert line["to"] == "Recipient(<email>)" and line["more"] == {"to": "Recipient(<email>)"}
