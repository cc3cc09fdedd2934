"""A plain threaded HTTP load client: N clients, each on one keep-alive connection
(http.client), taking request numbers from a shared counter until the request budget or the
time limit runs out, so a run always ends."""
from __future__ import annotations

import http.client
import itertools
import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Generator, Mapping

SCIM_JSON = "application/scim+json"
# How many unexpected answers a result keeps for the report.
KEPT_FAILURES = 5


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def json_request(method: str, path: str, document=None, headers: Mapping[str, str] | None = None) -> Request:
    """A request with a SCIM JSON body (RFC 7644 §3.1: application/scim+json)."""
    body = None if document is None else json.dumps(document).encode()
    return Request(method, path, body, {"Content-Type": SCIM_JSON, "Accept": SCIM_JSON, **(headers or {})})


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # the first few unexpected answers or errors
    failure_count: int = 0
    elapsed: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile (q in 0..100) of the latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1] * 1000

    def merge(self, other: LoadResult) -> None:
        self.latencies.extend(other.latencies)
        self.statuses.update(other.statuses)
        self.failure_count += other.failure_count
        self.failures.extend(other.failures[:KEPT_FAILURES - len(self.failures)])


ResponseHook = Callable[[int, int, bytes], None]  # (request number, status, body)
# The i-th unit of work of run_conversations: yields requests one after the other and receives
# each answer as (status, body), so a later request can use an earlier answer.
Conversation = Generator[Request, tuple[int, bytes], None]


def run_load(host: str, port: int, request_for: Callable[[int], Request], *, total: int, clients: int,
             time_limit: float, expect: tuple[int, ...] = (200,), on_response: ResponseHook | None = None,
             ) -> LoadResult:
    """Send request_for(0) .. request_for(total - 1) from `clients` threads; stop early at
    `time_limit` seconds. Statuses outside `expect` and connection errors count as failures."""

    def single(number: int) -> Conversation:
        status, body = yield request_for(number)
        if on_response is not None:
            on_response(number, status, body)

    return run_conversations(host, port, single, total=total, clients=clients, time_limit=time_limit, expect=expect)


def in_turn(host: str, port: int, request_for: Callable[[int, int], Request], *, each: int, time_limit: float,
            what: str) -> tuple[LoadResult, LoadResult]:
    """Two kinds of request asked in turn by one client: request_for(0, n), then
    request_for(1, n), for n = 0 .. each - 1; the answers of each kind apart. A busy minute of a
    shared machine then meets both kinds alike, and their ratio holds where two runs one after
    the other would not. An unexpected answer raises RuntimeError naming `what`."""
    result = run_load(host, port, lambda i: request_for(i % 2, i // 2), total=2 * each, clients=1,
                      time_limit=time_limit)
    if result.failure_count:
        raise RuntimeError(f"{what}: {'; '.join(result.failures)}")
    # One client answers in order, so the latencies alternate like the requests.
    first, second = (LoadResult(latencies=result.latencies[kind::2]) for kind in (0, 1))
    return first, second


def run_conversations(host: str, port: int, conversation_for: Callable[[int], Conversation], *, total: int,
                      clients: int, time_limit: float, expect: tuple[int, ...] = (200,)) -> LoadResult:
    """run_load for conversations: conversation_for(0) .. (total - 1), each run to its end by one
    client on its connection (an IdP's lookup then create of one user; a group's create then its
    member PATCHes). No conversation starts after `time_limit` seconds."""
    numbers = itertools.count()
    deadline = time.monotonic() + time_limit
    results = [LoadResult() for _ in range(clients)]

    def client(result: LoadResult) -> None:
        _client_loop(host, port, conversation_for, numbers, total, deadline, expect, result)

    threads = [threading.Thread(target=client, args=(result,), daemon=True) for result in results]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    combined = LoadResult(elapsed=time.perf_counter() - started)
    for result in results:
        combined.merge(result)
    return combined


def _client_loop(host, port, conversation_for, numbers, total, deadline, expect, result: LoadResult):
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        for number in numbers:
            if number >= total or time.monotonic() >= deadline:
                return
            if not _converse(connection, conversation_for(number), number, expect, result):
                return
    finally:
        connection.close()


def _converse(connection, conversation: Conversation, number: int, expect, result: LoadResult) -> bool:
    """Run one conversation to its end; False when one of its requests could not be built (its
    client stops: the scenario is broken, not the server). A connection error ends the
    conversation only."""
    answer = None
    while True:
        try:
            request = conversation.send(answer)
        except StopIteration:
            return True
        except Exception as exc:  # noqa: BLE001 - reported in the result; this client stops
            _fail(result, f"request {number} could not be built: {type(exc).__name__}: {exc}")
            return False
        started = time.perf_counter()
        try:
            status, body = _exchange(connection, request)
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            _fail(result, f"{request.method} {request.path}: {type(exc).__name__}: {exc}")
            conversation.close()
            return True
        result.latencies.append(time.perf_counter() - started)
        result.statuses[status] += 1
        if status not in expect:
            _fail(result, f"{request.method} {request.path}: {status} {body[:300]!r}")
        answer = (status, body)


def _exchange(connection: http.client.HTTPConnection, request: Request) -> tuple[int, bytes]:
    """One request on the keep-alive connection; once more on a fresh connection when the
    server had closed the idle one (the request never reached the application)."""
    try:
        return _send(connection, request)
    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
        connection.close()  # the next request opens a new connection
        return _send(connection, request)


def _send(connection: http.client.HTTPConnection, request: Request) -> tuple[int, bytes]:
    connection.request(request.method, request.path, body=request.body, headers=dict(request.headers))
    response = connection.getresponse()
    return response.status, response.read()


def _fail(result: LoadResult, description: str) -> None:
    result.failure_count += 1
    if len(result.failures) < KEPT_FAILURES:
        result.failures.append(description)
