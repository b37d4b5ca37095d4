"""The owner's window gate (``api/admission.py``): the budgets of the windows being built never
add up to more than its pool, requests wait in arrival order, and those that cannot wait are
refused whole. Real worker threads (Starlette's pool) on a real event loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifelog.api.admission import MIN_SHARE, POOL, WindowGate
from lifelog.errors import OwnerBusy
from lifelog.replay.context import MAX_BUDGET


class Builds:
    """Work for the gate that records the shares in flight (from the worker threads)."""

    def __init__(self, gate: WindowGate) -> None:
        self.gate, self.lock = gate, threading.Lock()
        self.in_flight = self.peak = 0
        self.started: list[str] = []
        self.release = threading.Event()  # what held builds wait for

    def work(self, name: str, budget: int, hold: threading.Event | float):
        def build():
            with self.lock:
                self.in_flight += self.gate.share(budget)
                self.peak = max(self.peak, self.in_flight)
                self.started.append(name)
            hold.wait(5) if isinstance(hold, threading.Event) else time.sleep(hold)
            with self.lock:
                self.in_flight -= self.gate.share(budget)
            return name

        return self.gate.run(budget, build)

    async def holding(self, name: str, budget: int) -> asyncio.Task:
        """A build of ``budget`` that runs until ``release`` is set, once it has started."""
        task = asyncio.create_task(self.work(name, budget, self.release))
        await _until(lambda: name in self.started)
        return task

    async def queued(self, name: str, budget: int) -> asyncio.Task:
        """A quick build of ``budget``, once it waits in the queue."""
        waiting = len(self.gate._queue)
        task = asyncio.create_task(self.work(name, budget, 0))
        await _until(lambda: len(self.gate._queue) == waiting + 1)
        return task


async def _until(predicate) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("timed out")


def test_the_pool_holds_the_largest_window_and_counts_small_ones_as_a_minimum():
    gate = WindowGate()
    assert gate.share(MAX_BUDGET) == MAX_BUDGET and gate.share(8000) == MIN_SHARE
    assert MAX_BUDGET <= POOL < 2 * MAX_BUDGET  # never two of the largest at once


def test_a_busy_owner_answers_503_with_the_protocols_json_error_and_exit_1():
    from lifelog.api.http_errors import answer

    assert answer(OwnerBusy("The lifelog owner is busy."), "POST /v1/context") == (503, "The lifelog owner is busy.", 1)


def test_requests_that_do_not_fit_wait_in_arrival_order():
    async def scenario():
        gate = WindowGate(pool=10, min_share=1)
        builds = Builds(gate)
        first = await builds.holding("a", 6)
        second = await builds.queued("b", 6)
        third = asyncio.create_task(builds.work("c", 1, 0))  # would fit now, but b came first
        await asyncio.sleep(0.05)
        assert builds.started == ["a"]
        builds.release.set()
        assert await asyncio.gather(first, second, third) == ["a", "b", "c"]
        assert builds.started == ["a", "b", "c"] and builds.peak <= 10 and gate.used == 0

    asyncio.run(scenario())


def test_a_full_queue_is_refused_at_once_and_a_long_wait_in_time():
    async def scenario():
        gate = WindowGate(pool=10, min_share=1, wait_s=0.2, max_waiting=1)
        builds = Builds(gate)
        holder = await builds.holding("big", 10)
        waiter = await builds.queued("waits", 1)
        with pytest.raises(OwnerBusy, match="1 requests are waiting"):
            await builds.work("refused", 1, 0)
        with pytest.raises(OwnerBusy, match=r"waited 0.2 s.*Try again"):
            await waiter
        builds.release.set()
        assert await holder == "big"
        assert builds.started == ["big"] and gate.used == 0 and not gate._queue
        assert await builds.work("after", 10, 0) == "after"  # nothing was left held

    asyncio.run(scenario())


def test_a_request_cancelled_waiting_leaves_nothing_held_and_one_cancelled_building_counts_until_it_ends():
    async def scenario():
        gate = WindowGate(pool=10, min_share=1)
        builds = Builds(gate)
        building = await builds.holding("big", 10)
        gone = await builds.queued("gone", 5)  # its client hangs up while it waits
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert not gate._queue and gate.used == 10
        building.cancel()  # its client hangs up too, but the worker thread goes on building
        await asyncio.sleep(0.05)
        assert gate.used == 10
        builds.release.set()
        await _until(lambda: gate.used == 0)
        assert "gone" not in builds.started and not gate._queue

    asyncio.run(scenario())


@settings(max_examples=60, deadline=None)
@given(
    budgets=st.lists(st.integers(1, 30), min_size=1, max_size=12),
    holds=st.lists(st.floats(0, 0.003), min_size=12, max_size=12),
)
def test_shares_in_flight_never_exceed_the_pool_and_every_request_ends(budgets, holds):
    async def scenario():
        gate = WindowGate(pool=20, min_share=3)
        builds = Builds(gate)
        results = await asyncio.gather(*(builds.work(str(i), b, holds[i]) for i, b in enumerate(budgets)))
        assert results == [str(i) for i in range(len(budgets))]
        assert builds.peak <= 20 and gate.used == 0 and not gate._queue

    asyncio.run(scenario())
