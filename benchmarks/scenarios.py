"""The benchmark scenarios, run in the order they are declared, on one server per backend.

A scenario is one function `(ctx, i) -> Request` giving its i-th request, declared with
`@scenario(...)`. A figure is a function `(ctx, rows) -> list of lines`, declared with
`@figure(title)`: after a backend's scenarios it derives figures from their rows (by scenario
name) or measures something itself while the server still runs; its lines print under the table. State flows from one scenario to the next through `ctx.state` (a create
scenario's `on_response` keeps the ids a later get-by-id scenario reads), and `ctx.bearer()`
gives the headers of a bearer token made with `ally-scim token create`. A SCIM scenario is
then a few lines:

    @scenario("get user by id", requests=5000)
    def get_user(ctx, i):
        ids = ctx.state["user_ids"]
        return Request("GET", f"/scim/v2/Users/{ids[i % len(ids)]}", headers=ctx.bearer())
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from benchmarks.client import Request
from benchmarks.servers import BENCH_ORG, create_token

FLOOR = "floor"
CONNECTOR = "connector"


@dataclass
class Context:
    """What scenarios share on one server: its config, the organisation, a token, state."""

    config: Path | None = None
    port: int | None = None  # of the server under test
    backend: str = "-"  # "sqlite" or "postgresql"
    floor_throughput: float | None = None  # requests/s of the floor, for figures' ratios
    organisation: str = BENCH_ORG["slug"]
    state: dict = field(default_factory=dict)
    _token: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def bearer(self) -> dict[str, str]:
        """Authorization header with a token for the organisation (made once, on first use)."""
        with self._lock:
            if self._token is None:
                self._token = create_token(self.config, self.organisation)
        return {"Authorization": f"Bearer {self._token}"}


@dataclass(frozen=True)
class Scenario:
    name: str
    request: Callable[[Context, int], Request]
    target: str = CONNECTOR  # which server: the connector, or the floor app
    requests: int = 3000  # at most this many requests ...
    time_limit: float = 20.0  # ... and for at most this many seconds
    clients: int = 4
    expect: tuple[int, ...] = (200,)
    # (ctx, i, status, body) after each answer, e.g. to keep created ids in ctx.state
    on_response: Callable[[Context, int, int, bytes], None] | None = None


@dataclass(frozen=True)
class Figure:
    title: str
    compute: Callable[[Context, dict], list[str]]  # (ctx, {scenario name: Row}) -> lines
    # A figure with a name is a long measurement of its own: `--only NAME` runs it, and any other
    # `--only` leaves it out. Figures without one derive from rows, or measure briefly.
    name: str | None = None


SCENARIOS: list[Scenario] = []
FIGURES: list[Figure] = []


def scenario(name: str, **options) -> Callable:
    """Declare the decorated `(ctx, i) -> Request` function as a scenario named `name`."""

    def declare(function):
        SCENARIOS.append(Scenario(name=name, request=function, **options))
        return function

    return declare


def figure(title: str, name: str | None = None) -> Callable:
    """Declare the decorated `(ctx, rows) -> list[str]` function as a figure titled `title`."""

    def declare(function):
        FIGURES.append(Figure(title=title, compute=function, name=name))
        return function

    return declare


# Long enough (several seconds) that one busy moment of the shared machine does not move every ratio.
@scenario("floor (bare Flask)", target=FLOOR, requests=20_000, time_limit=10)
def floor(ctx: Context, i: int) -> Request:
    return Request("GET", "/floor")


@scenario("GET /healthz")
def healthz(ctx: Context, i: int) -> Request:
    return Request("GET", "/healthz")


@scenario("GET /readyz")
def readyz(ctx: Context, i: int) -> Request:
    return Request("GET", "/readyz")


from benchmarks import users  # noqa: E402,F401 - its scenarios and figures follow the ones above
from benchmarks import groups  # noqa: E402,F401
from benchmarks import initial_sync  # noqa: E402,F401
from benchmarks import targets  # noqa: E402,F401 - last: its lines sum up the figures above
