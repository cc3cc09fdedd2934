"""A refused upload is answered, not reset: under `ally-scim serve`, a body the app never reads
(too large, unauthenticated, unknown route) is read and dropped before the connection closes,
so the client (or nginx in front) gets the answer instead of a broken pipe."""
import json
import socket

import pytest

from benchmarks.servers import HOST, ally_scim, connector_server, create_token, free_port, running, write_config

pytestmark = pytest.mark.slow
LIMIT = 256 * 1024
BODY = b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "' + b"x" * (4_000_000) + b'"}'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("unread-bodies")
    port = free_port()
    config = write_config(workdir, f"sqlite:///{workdir}/ally.db", port, scim={"max_body_bytes": LIMIT})
    ally_scim(config, "init")
    token = create_token(config, "bench")
    with running(connector_server(config, port, workdir, workers=1)) as process:
        yield process.port, token


def post_once(port: int, path: str, headers: dict[str, str]) -> tuple[str, bytes]:
    """One HTTP/1.0 POST of BODY on its own connection, the server closing it after answering."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (f"POST {path} HTTP/1.0\r\nHost: {HOST}\r\nContent-Type: application/scim+json\r\n"
               f"Content-Length: {len(BODY)}\r\n{head}\r\n").encode() + BODY
    with socket.create_connection((HOST, port), timeout=20) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return status_line.decode(), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("attempt", range(3))
def test_a_body_over_the_limit_gets_its_413(server, attempt):
    port, token = server
    status, body = post_once(port, "/scim/v2/Users", {"Authorization": f"Bearer {token}"})
    assert " 413 " in status
    error = json.loads(body)
    assert error["status"] == "413" and error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


@pytest.mark.parametrize("path, expected", [("/scim/v2/Users", " 401 "), ("/no/such/route", " 404 "),
                                            ("/oauth/token", " 413 ")])
def test_answers_given_before_reading_the_body_arrive_whole(server, path, expected):
    port, _ = server
    status, _ = post_once(port, path, {})
    assert expected in status
