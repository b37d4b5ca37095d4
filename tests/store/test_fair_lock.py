"""The owner's write lock goes to writes in the order they asked for it: a writer that lets
go and asks again at once (an import's next slice) goes behind the write already waiting."""

from __future__ import annotations

import threading

from lifelog.store.fair_lock import FairLock
from tests.support.wait import wait_for


def _queued(lock: FairLock, n: int) -> None:
    wait_for(lambda: len(lock._queue) == n, 10, f"{n} writes waiting")


def test_a_release_hands_the_lock_to_the_longest_waiting_write_not_to_the_releaser():
    lock = FairLock()
    order: list[str] = []

    def write(name: str) -> None:
        with lock:
            order.append(name)

    lock.acquire()
    waiters = []
    for name in ("recorder", "embedder"):
        waiters.append(threading.Thread(target=write, args=(name,)))
        waiters[-1].start()
        _queued(lock, len(waiters))
    lock.release()
    write("import again")  # asks right after letting go: behind both
    for t in waiters:
        t.join()
    assert order == ["recorder", "embedder", "import again"]


def test_an_acquire_that_times_out_leaves_the_line_and_the_next_one_gets_in():
    lock = FairLock()
    lock.acquire()
    assert not lock.acquire(timeout=0.05)
    assert not lock._queue
    got = threading.Event()
    t = threading.Thread(target=lambda: lock.acquire(timeout=10) and got.set())
    t.start()
    _queued(lock, 1)
    lock.release()
    t.join()
    assert got.is_set()
    assert not lock.acquire(timeout=0)
