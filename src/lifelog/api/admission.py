"""How many context windows the owner builds at once: admitted by budget, the rest wait or are
refused.

A window is assembled in the owner's memory, and what it takes grows with its budget (the
newest lines worth ~1.3 budgets are held as columns while the cut is found), not with the range
(``replay/context.py``). So the owner admits a window only while the budgets of the windows
being built add up to at most ``POOL`` tokens, each counted as at least ``MIN_SHARE`` (a small
window still reads a range's totals). ``POOL`` is one window of the largest budget
(``MAX_BUDGET``) and a few small ones beside it: ten clients asking for 10M-token windows at
once get them one at a time, while 8k windows keep being answered next to the one in progress.

Requests that do not fit wait in arrival order (a large one is not passed for ever by small
ones), up to ``WAIT_S``; with ``MAX_WAITING`` already waiting, or after waiting that long, a
request is refused with :class:`OwnerBusy` (the owner answers 503 with the protocol's JSON
error; the command exits 1 saying to try again). The owner's memory for windows is therefore
bounded whatever clients ask.

The ceiling, measured (``bench/owner_memory.py``, 30 generated days, 2.59M spans, every window
since 3650d; 2-core VM, shared, 2026-12-03; two runs): an owner without its recorder holds
~200 MB after one small window; its peak is 309-323 MB for a 1M window, 1.36-1.41 GB for a 10M
one (1.38-1.51 GB as JSON), 1.37-1.45 GB with ten clients asking for 10M windows at once (2-6
answered, the rest busy after 60 s), 1.17-1.21 GB with ten asking for 1M windows at once (all
answered); an export of the whole timeline (661 MiB of JSONL) streams at 326-328 MB. One
long-lived owner taking all of these in a row peaked at 1.64 GB (memory a large window frees
stays with the process and is reused). So: about 1.7 GB, plus what the recorder holds beside
it (~0.3 GB more while recording). A 10M window over a year took 1.4 GB too
(``bench/context_scale.py``): the bound follows the budget, not the range.
"""

from __future__ import annotations

import asyncio
from collections import deque

from lifelog.errors import OwnerBusy
from lifelog.replay.context import MAX_BUDGET

MIN_SHARE = 500_000  # tokens a window is counted as, however small its budget
POOL = MAX_BUDGET + 4 * MIN_SHARE  # the largest window and four small ones at once
WAIT_S = 60.0  # the longest a request waits for its turn before it is refused
MAX_WAITING = 32  # requests waiting at once; more are refused at once


class WindowGate:
    """A FIFO semaphore weighted by budget, for the owner's event loop (one thread: no lock)."""

    def __init__(
        self, pool: int = POOL, min_share: int = MIN_SHARE, wait_s: float = WAIT_S, max_waiting: int = MAX_WAITING
    ) -> None:
        self.pool, self.min_share, self.wait_s, self.max_waiting = pool, min_share, wait_s, max_waiting
        self.used = 0  # tokens of the windows being built
        self._queue: deque[tuple[int, asyncio.Future]] = deque()

    def share(self, budget: int) -> int:
        return min(max(budget, self.min_share), self.pool)

    async def run(self, budget: int, work):
        """``work()`` in a worker thread once ``budget`` is admitted; its result. The share is
        given back when ``work`` ends, not when the request does: a client that hangs up does
        not stop a build already under way, so its memory still counts until it is done."""
        from starlette.concurrency import run_in_threadpool

        need = await self._admit(self.share(budget))
        loop = asyncio.get_running_loop()
        started = False

        def job():
            nonlocal started
            started = True
            try:
                return work()
            finally:
                try:
                    loop.call_soon_threadsafe(self._release, need)
                except RuntimeError:  # the loop closed meanwhile (the owner stopped): nothing to give back
                    pass

        try:
            return await run_in_threadpool(job)
        finally:
            if not started:  # cancelled before a worker took it
                self._release(need)

    async def _admit(self, need: int) -> int:
        if not self._queue and self.used + need <= self.pool:
            self.used += need
            return need
        if len(self._queue) >= self.max_waiting:
            raise self._busy(f"{len(self._queue)} requests are waiting")
        entry = (need, asyncio.get_running_loop().create_future())
        self._queue.append(entry)
        try:
            done, _ = await asyncio.wait({entry[1]}, timeout=self.wait_s)
        except BaseException:  # the request was cancelled while it waited
            self._abandon(entry)
            raise
        if not done:
            self._abandon(entry)
            raise self._busy(f"this request waited {self.wait_s:g} s")
        return need

    def _abandon(self, entry: tuple[int, asyncio.Future]) -> None:
        """Leave the queue, or give the share back when it was granted meanwhile."""
        if entry in self._queue:
            self._queue.remove(entry)
            entry[1].cancel()
            self._grant()  # the next in line may fit now
        else:
            self._release(entry[0])

    def _release(self, need: int) -> None:
        self.used -= need
        self._grant()

    def _grant(self) -> None:
        while self._queue and self.used + self._queue[0][0] <= self.pool:
            need, future = self._queue.popleft()
            self.used += need
            future.set_result(None)

    def _busy(self, why: str) -> OwnerBusy:
        return OwnerBusy(
            f"The lifelog owner is busy building other context windows ({self.used:,} of "
            f"{self.pool:,} budget tokens in use; {why}). Try again in a moment."
        )
