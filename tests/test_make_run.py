"""`make run` on the embedded SQLite default: sets up, prints the SCIM base URL and a bearer
token, serves, and the printed token works against the printed URL (issue 2's smoke test)."""
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEADLINE_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_until(process, pattern: str, lines: list) -> re.Match:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    pytest.fail("make run never printed %r; it printed:\n%s" % (pattern, "".join(lines)))


def get(url: str, token: str | None = None):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.loads(response.read())


def wait_for_health(base: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            if get(f"{base}/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("the server never answered /healthz")


def test_make_run_serves_with_a_working_demo_token(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PORT": str(port), "ALLY_DATABASE_URL": f"sqlite:///{tmp_path}/ally.db",
           "ALLY_PUBLIC_URL": base, "ALLY_CONFIG": "config.example.yaml"}
    process = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    lines: list = []
    try:
        scim_base = read_until(process, r"SCIM base URL: (\S+)", lines).group(1)
        token = read_until(process, r"(allyt_[A-Za-z0-9_-]+)", lines).group(1)
        assert scim_base == f"{base}/scim/v2"
        wait_for_health(base)
        status, document = get(f"{scim_base}/ServiceProviderConfig", token)
        assert status == 200
        assert document["patch"]["supported"] is True
        status, listing = get(f"{scim_base}/Users?filter=userName%20eq%20%22nobody%40example.com%22", token)
        assert (status, listing["totalResults"]) == (200, 0)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
