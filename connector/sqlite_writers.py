"""Queueing for SQLite's single writer across the threads and worker processes of one server.

SQLite lets one transaction write at a time. A writer that finds the lock taken is put to
sleep by SQLite's busy handler in growing steps (1, 2, 5, 10, 15, 20, 25 ... 100 ms) and
retries, so under a few concurrent writers most of a write's time is spent asleep while the
lock is already free again (a create holds it for about 2 ms). Here writers queue instead:
threads of one process on a lock they wait on without polling, one thread per process then
takes an exclusive flock on a file beside the database. When another process holds it, the
wait is a blocking flock(2), which wakes the moment that process lets go; the flock is
released with the transaction, or by the kernel if the process dies. Writers that do not come
through here (the CLI, another program) still meet SQLite's own lock and busy timeout, which
remains the rule; this only shortens the queue.
"""
from __future__ import annotations

import fcntl
import os
import queue
import threading
import time
from contextlib import contextmanager

IDLE_SECONDS = 60.0  # a process's waiting thread ends after this long without a wait


class WriterQueue:
    """One database file's queue; `turn()` holds it for the length of a write transaction."""

    def __init__(self, database_path: str, timeout_seconds: float):
        self.lock_path = database_path + "-writers.lock"
        self.timeout_seconds = timeout_seconds
        self._in_process = threading.Lock()
        self._process: _ProcessLock | None = None  # a forked worker makes its own

    @contextmanager
    def turn(self):
        """Wait for this database's write turn (at most timeout_seconds: then the transaction
        goes ahead and meets SQLite's busy timeout, whose error the caller already handles)."""
        deadline = time.monotonic() + self.timeout_seconds
        if not self._in_process.acquire(timeout=self.timeout_seconds):
            yield
            return
        try:
            held = self._process_lock().take(deadline - time.monotonic())
            try:
                yield
            finally:
                if held is not None:
                    fcntl.flock(held, fcntl.LOCK_UN)
        finally:
            self._in_process.release()

    def _process_lock(self) -> _ProcessLock:
        if self._process is None or self._process.pid != os.getpid():
            self._process = _ProcessLock(self.lock_path)
        return self._process


def _open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


class _Attempt:
    def __init__(self):
        self.guard = threading.Lock()
        self.done = threading.Event()
        self.had = False        # the waiting thread took the lock for this attempt
        self.abandoned = False  # the writer stopped waiting first


class _ProcessLock:
    """One process's side of the writers' lock across processes: a quick try on its own
    descriptor, and when another process holds the lock, a thread that waits for it in a
    blocking flock(2).

    flock(2) cannot time out, so the wait happens on that thread and the writer waits on an
    Event, which can (polling with LOCK_NB instead slept up to a millisecond past the other
    process's release: in paired rounds of 2,500 creates from 4 clients over 2 workers,
    blocking gave 7% more creates a second). A writer that gives up marks its attempt abandoned,
    and the thread lets go of the lock as soon as it has it. The thread locks a second open file
    description: flock locks belong to one, so letting go of an abandoned turn there can never
    release a turn a later writer took with a quick try, which also conflicts with it."""

    def __init__(self, lock_path: str):
        self.pid = os.getpid()
        self._fd = _open(lock_path)
        self._waiting_fd = _open(lock_path)
        self._attempts: queue.SimpleQueue[_Attempt] = queue.SimpleQueue()
        self._guard = threading.Lock()
        self._running = False

    def take(self, timeout: float) -> int | None:
        """Take the lock within `timeout` seconds: the descriptor that then holds it, or None."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return self._fd
        except BlockingIOError:
            return self._wait(timeout)

    def _wait(self, timeout: float) -> int | None:
        attempt = _Attempt()
        with self._guard:
            self._attempts.put(attempt)
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="sqlite-writers-flock", daemon=True).start()
        attempt.done.wait(max(0.0, timeout))
        with attempt.guard:
            attempt.abandoned = not attempt.done.is_set()
            return self._waiting_fd if attempt.had else None

    def _run(self) -> None:
        while True:
            try:
                attempt = self._attempts.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._guard:
                    if self._attempts.empty():
                        self._running = False
                        return
                continue
            try:
                fcntl.flock(self._waiting_fd, fcntl.LOCK_EX)
                had = True
            except OSError:  # the writer goes on to SQLite's busy timeout, as after a timeout
                had = False
            with attempt.guard:
                if attempt.abandoned:
                    if had:
                        fcntl.flock(self._waiting_fd, fcntl.LOCK_UN)
                    continue
                attempt.had = had
                attempt.done.set()
