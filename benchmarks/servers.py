"""Real servers for benchmarks and end-to-end tests: `ally-scim serve` (gunicorn) or the floor
app under the same gunicorn configuration, as subprocesses on a free 127.0.0.1 port, over a
fresh database; and the `ally-scim` commands that prepare them."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import yaml

HOST = "127.0.0.1"
POSTGRES_ENV = "ALLY_TEST_POSTGRES_URL"
BENCH_ORG = {"name": "Bench Corp", "slug": "bench", "domains": ["bench.example"], "skip_invitations": True}
READY_SECONDS = 30
STOP_SECONDS = 15
COMMAND_SECONDS = 300
# Extra config for every server and command the benchmarks start: the one place for a section
# the load would otherwise trip over. The load exceeds the rate limits' defaults (12,000
# requests a minute per credential, 30,000 per organisation); the limiter stays on, so its cost
# is in every figure.
EXTRA_CONFIG: dict = {
    "rate_limit": {"enabled": True, "per_credential_per_minute": 100_000_000,
                   "per_organisation_per_minute": 100_000_000},
}


class BenchmarkError(Exception):
    """A server or command the benchmark needs did not do its part; the message says which."""


class MissingCommand(BenchmarkError):
    """An `ally-scim` command that does not exist (yet) in this checkout."""


def progress(message: str) -> None:
    """A progress line on stderr ("... message"), apart from the figures on stdout."""
    print(f"... {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without config overrides (ALLY_*) or a metrics directory."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("ALLY_") and name != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(extra)
    return env


def write_config(directory: Path, database_url: str, port: int, **sections) -> Path:
    """A config file for a server on `port` over `database_url`, with the benchmark organisation."""
    config = {"database_url": database_url, "public_url": f"http://{HOST}:{port}",
              "server": {"host": HOST, "port": port, "workers": 2}, "organisations": [BENCH_ORG],
              **EXTRA_CONFIG, **sections}
    path = directory / f"config-{port}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def ally_scim(config: Path, *args: str, env: dict | None = None) -> str:
    """Run `ally-scim --config CONFIG ARGS...`; its stdout, or BenchmarkError naming the command."""
    command = [sys.executable, "-m", "connector.cli", "--config", str(config), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_SECONDS,
                          env=env or clean_environment())
    if done.returncode == 0:
        return done.stdout
    if "No such command" in done.stderr:
        raise MissingCommand(f"`ally-scim {args[0]}` does not exist in this checkout yet: {done.stderr.strip()}")
    raise BenchmarkError(f"`ally-scim {' '.join(args)}` failed with exit status {done.returncode}: "
                         f"{done.stderr.strip()[-2000:]}")


def create_token(config: Path, organisation: str) -> str:
    """A new bearer token for `organisation`, made the way an admin makes one (DESIGN.md §7)."""
    try:
        output = ally_scim(config, "token", "create", "--org", organisation, "--name", f"benchmark-{uuid.uuid4().hex[:8]}")
    except MissingCommand as exc:
        raise MissingCommand(f"scenarios that call /scim/v2 need a bearer token from `ally-scim token create`, "
                             f"which the OAuth work adds; it is not here yet ({exc})") from None
    return output.strip()


class ServerProcess:
    """A gunicorn master we started; `pid` is the master, its children are the workers."""

    def __init__(self, command: list[str], port: int, ready_path: str, log_path: Path, env: dict):
        self.port = port
        self.ready_path = ready_path
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, seconds: float = READY_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchmarkError(f"the server exited with status {self.process.returncode}:\n{self.log_tail()}")
            if _answers_ok(self.port, self.ready_path):
                return
            time.sleep(0.1)
        raise BenchmarkError(f"the server did not answer {self.ready_path} within {seconds} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (gunicorn's graceful stop), then SIGKILL if it is still there."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_SECONDS)
        self._log.close()

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running(server: ServerProcess):
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def connector_server(config: Path, port: int, workdir: Path, workers: int = 2, env: dict | None = None) -> ServerProcess:
    """`ally-scim serve` on HOST:port, ready when /readyz answers 200."""
    command = [sys.executable, "-m", "connector.cli", "--config", str(config), "serve",
               "--host", HOST, "--port", str(port), "--workers", str(workers)]
    return ServerProcess(command, port, "/readyz", workdir / f"server-{port}.log", env or clean_environment())


def floor_server(port: int, workdir: Path, workers: int = 2) -> ServerProcess:
    """The bare Flask endpoint under the same gunicorn configuration (benchmarks.floor)."""
    command = [sys.executable, "-m", "benchmarks.floor", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    env = clean_environment(PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    return ServerProcess(command, port, "/floor", workdir / f"floor-{port}.log", env)


@contextmanager
def scratch_database(backend: str, workdir: Path):
    """The URL of a new, empty database: a SQLite file under workdir, or a PostgreSQL database
    created on the server in ALLY_TEST_POSTGRES_URL and dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'ally-{uuid.uuid4().hex[:8]}.db'}"
        return
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        raise BenchmarkError(f"{POSTGRES_ENV} is not set: no PostgreSQL server to benchmark on")
    name = f"ally_bench_{uuid.uuid4().hex[:12]}"
    postgres_statement(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(server_url)._replace(path=f"/{name}"))
    finally:
        postgres_statement(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_statement(database_url: str, statement: str) -> list:
    """Run one statement on its own autocommit connection (CREATE DATABASE, VACUUM and SHOW
    need one); its rows, if it returns any."""
    import psycopg

    connection = psycopg.connect(database_url, autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def _answers_ok(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
