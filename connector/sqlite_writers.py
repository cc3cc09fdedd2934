"""Queueing for SQLite's single writer across the threads and worker processes of one server.

SQLite lets one transaction write at a time. A writer that finds the lock taken is put to
sleep by SQLite's busy handler in growing steps (1, 2, 5, 10, 15, 20, 25 ... 100 ms) and
retries, so under a few concurrent writers most of a write's time is spent asleep while the
lock is already free again (a create holds it for about 2 ms). Here writers queue instead:
threads of one process on a lock they wait on without polling, one thread per process then
takes an exclusive flock on a file beside the database, polling it in steps of at most a
millisecond. The flock is released with the transaction, or by the kernel if the process dies.
Writers that do not come through here (the CLI, another program) still meet SQLite's own lock
and busy timeout, which remains the rule; this only shortens the queue.
"""
from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager

FIRST_STEP_SECONDS = 0.00005
LONGEST_STEP_SECONDS = 0.001


class WriterQueue:
    """One database file's queue; `turn()` holds it for the length of a write transaction."""

    def __init__(self, database_path: str, timeout_seconds: float):
        self.lock_path = database_path + "-writers.lock"
        self.timeout_seconds = timeout_seconds
        self._in_process = threading.Lock()
        self._file: tuple[int, int] | None = None  # (pid, fd): a forked worker opens its own

    @contextmanager
    def turn(self):
        """Wait for this database's write turn (at most timeout_seconds: then the transaction
        goes ahead and meets SQLite's busy timeout, whose error the caller already handles)."""
        deadline = time.monotonic() + self.timeout_seconds
        if not self._in_process.acquire(timeout=self.timeout_seconds):
            yield
            return
        try:
            fd = self._descriptor()
            locked = _flock_until(fd, deadline)
            try:
                yield
            finally:
                if locked:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._in_process.release()

    def _descriptor(self) -> int:
        pid = os.getpid()
        if self._file is None or self._file[0] != pid:
            self._file = (pid, os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600))
        return self._file[1]


def _flock_until(fd: int, deadline: float) -> bool:
    step = FIRST_STEP_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(step)
            step = min(step * 2, LONGEST_STEP_SECONDS)
