"""connector.sqlite_writers: writers of one SQLite database take turns, across threads and
across processes, and a turn that cannot be had in time leaves the writer to SQLite's own
busy timeout instead of waiting for ever."""
import subprocess
import sys
import threading
import time

import pytest

from connector.db import is_sqlite, write_transaction
from connector.models import User
from connector.sqlite_writers import WriterQueue

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_threads_take_turns(tmp_path):
    queue = WriterQueue(str(tmp_path / "x.db"), timeout_seconds=10)
    inside, most = [0], [0]
    guard = threading.Lock()

    def write():
        for _ in range(20):
            with queue.turn():
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.0005)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_a_turn_waits_for_another_process_and_gives_up_at_its_timeout(tmp_path):
    database = str(tmp_path / "x.db")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, database + "-writers.lock", "30"], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        queue = WriterQueue(database, timeout_seconds=0.2)
        started = time.monotonic()
        with queue.turn():  # not had: the writer goes on to meet SQLite's lock itself
            waited = time.monotonic() - started
        assert waited >= 0.2
    finally:
        holder.kill()
        holder.wait()
    with queue.turn():  # the kernel let go of the dead holder's lock
        pass


def test_write_transactions_go_through_the_queue(db, make_user):
    if not is_sqlite(db):
        pytest.skip("the writer queue is SQLite's (PostgreSQL has row locks)")
    queue = db.writer_queue
    assert queue.lock_path.endswith("-writers.lock")
    user = make_user("queued@acme.example")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, queue.lock_path, "0.5"], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        started = time.monotonic()
        with write_transaction():
            User.update(title="after the other writer").where(User.id == user.id).execute()
        assert time.monotonic() - started >= 0.3  # it waited for the other process's turn to end
    finally:
        holder.wait()
    assert User.get_by_id(user.id).title == "after the other writer"
