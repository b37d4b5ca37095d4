"""The owner's write lock, handed over in the order writes asked for it.

``threading.Lock`` lets whichever thread is running take it next: a long import that releases
the lock and asks again at once (a fold of the WAL, the search tail's move, then a slice) often
wins again, while the recorder's write, woken a moment later, waits behind several holds in a
row. Here a release hands the lock to the write that has waited longest, so a write waits
behind at most the holds that were asked for before it.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class FairLock:
    """A lock granted first come, first served; ``acquire`` gives up after ``timeout`` s."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[object] = deque()  # one token per waiting acquire, oldest first
        self._held = False

    def acquire(self, timeout: float = -1) -> bool:
        """Take the lock once every earlier asker had it; False if ``timeout`` s (negative:
        no limit) passed first."""
        me = object()
        deadline = None if timeout < 0 else time.monotonic() + timeout
        with self._cond:
            self._queue.append(me)
            while self._held or self._queue[0] is not me:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    self._queue.remove(me)
                    self._cond.notify_all()  # the next in line may be free to go now
                    return False
                self._cond.wait(left)
            self._queue.popleft()
            self._held = True
            return True

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
