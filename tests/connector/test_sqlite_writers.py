"""connector.sqlite_writers: writers of one SQLite database take turns, across threads and
across processes, and a turn that cannot be had in time leaves the writer to SQLite's own
busy timeout instead of waiting for ever."""
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

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


TRY = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
deadline = time.monotonic() + float(sys.argv[2])
while True:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("got", flush=True)
        break
    except BlockingIOError:
        if time.monotonic() >= deadline:
            print("busy", flush=True)
            break
        time.sleep(0.01)
"""


def _another_process_tries(lock_path: str, seconds: float) -> str:
    """'got' if another process can take the lock within `seconds`, else 'busy'."""
    done = subprocess.run([sys.executable, "-c", TRY, lock_path, str(seconds)], capture_output=True, timeout=30)
    return done.stdout.decode().strip()


@contextmanager
def _held_elsewhere(lock_path: str, seconds: float):
    """Another process holding the lock for `seconds` (then ending); yields it."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, lock_path, str(seconds)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_turn_waited_for_holds_the_lock_and_a_given_up_one_leaves_it_free(tmp_path):
    database = str(tmp_path / "x.db")
    lock_path = database + "-writers.lock"
    with _held_elsewhere(lock_path, 0.6) as holder:
        queue = WriterQueue(database, timeout_seconds=0.1)
        with queue.turn():  # given up after 0.1 s; its wait goes on in the waiting thread
            pass
        queue.timeout_seconds = 10
        with queue.turn():  # had once the holder lets go, after the given-up wait took and freed it
            assert holder.wait(timeout=10) == 0  # it let go by ending
            assert _another_process_tries(lock_path, 0.3) == "busy"
    assert _another_process_tries(lock_path, 5) == "got"


def test_a_wait_given_up_for_good_lets_go_of_the_lock_once_it_has_it(tmp_path):
    database = str(tmp_path / "x.db")
    lock_path = database + "-writers.lock"
    with _held_elsewhere(lock_path, 0.5) as holder:
        with WriterQueue(database, timeout_seconds=0.05).turn():
            pass
        holder.wait(timeout=10)
    assert _another_process_tries(lock_path, 5) == "got"
