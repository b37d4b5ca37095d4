"""Sleep-time scheduling of the owner's digester (issue 22 part 3), with real parts: power read
from a power-supply folder laid out as the kernel's sysfs, the idle time of a real Xvfb server
that xdotool moves the pointer on, a real spool folder and a real DigestWorker thread on a
DuckDB file. Digesting stops within a second when the user comes back (on battery) or a frame
is spooled (always), and resumes where it stopped."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from lifelog.daemon.digester import DigestWorker
from lifelog.daemon.owner import digester_waits
from lifelog.daemon.sleep_time import InputIdle, SleepTime, on_ac_power
from lifelog.paths import Paths
from lifelog.store import Store
from tests.support.spooled import spool_frame
from tests.support.writes import show

T0 = datetime(2026, 11, 2, 0, 0)
HOURS = 48  # two days of hours: a catch-up of a second or two, stopped in the middle


def _supply(root: Path, name: str, **files: str) -> None:
    (root / name).mkdir(parents=True)
    for key, value in files.items():
        (root / name / key).write_text(value + "\n")


@pytest.mark.parametrize(
    "supplies, on_ac",
    [
        ({}, True),  # no power supplies: a desktop, a VM
        ({"AC": {"type": "Mains", "online": "1"}, "BAT0": {"type": "Battery", "status": "Discharging"}}, True),
        ({"AC": {"type": "Mains", "online": "0"}, "BAT0": {"type": "Battery", "status": "Discharging"}}, False),
        ({"AC": {"type": "Mains", "online": "0"}, "BAT0": {"type": "Battery", "status": "Full"}}, False),
        (
            {"ucsi-source-psy-1": {"type": "USB", "online": "1"}, "BAT1": {"type": "Battery", "status": "Charging"}},
            True,
        ),
        ({"BAT0": {"type": "Battery", "status": "Discharging"}}, False),  # no adapter the kernel knows
        ({"BAT0": {"type": "Battery", "status": "Not charging"}}, True),
        ({"hidpp_battery_0": {"type": "Battery", "scope": "Device", "status": "Discharging"}}, True),  # a mouse's
    ],
)
def test_ac_power_from_the_power_supply_folder(tmp_path, supplies, on_ac):
    root = tmp_path / "power_supply"
    root.mkdir()
    for name, files in supplies.items():
        _supply(root, name, **files)
    assert on_ac_power(root) is on_ac
    assert on_ac_power(tmp_path / "none") is True
    assert isinstance(on_ac_power(), bool)  # this machine's own, whatever it is


def _xdotool(screen, *args: str) -> None:
    if not shutil.which("xdotool"):
        pytest.skip("xdotool is not installed (scripts/test.sh installs it)")
    subprocess.run(["xdotool", *args], env=screen.env, check=True, timeout=30)


def test_the_x_idle_time_grows_and_input_resets_it(screen, monkeypatch):
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    idle = InputIdle(screen.display)
    try:
        _xdotool(screen, "mousemove", "10", "10")
        time.sleep(0.6)
        before = idle()
        assert before is not None and before >= 0.5
        _xdotool(screen, "mousemove", "300", "200")
        after = idle()
        assert after is not None and after < 0.5
    finally:
        idle.close()
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")  # XWayland sees only X windows' input: unknown
    assert InputIdle()() is None
    assert InputIdle(":9999")() is None  # no such display


def _timeline(paths: Paths) -> Store:
    store = Store.open_owner(paths.db)  # as the owner holds it
    with store.write() as w:
        for h in range(HOURS):
            start = T0 + timedelta(hours=h)
            show(w, start, "XTerm", "bash: api", [f"$ make test-{h}", f"FAILED test_api_{h} - timeout after {h} s"])
            show(w, start + timedelta(minutes=20), "firefox", "Runbook", [f"Runbook step {h}: raise the timeout"])
        show(w, T0 + timedelta(hours=HOURS), "XTerm", "bash: api", ["$ git pull"])
        w.summarise_hours(T0 + timedelta(days=30))
    return store


def _quiet(spool: Path) -> None:
    """The spool folder as capture leaves it when the screen has not changed for minutes."""
    past = time.time() - 600
    os.utime(spool, (past, past))


class _Watched:
    """The worker's ``busy`` with a hook: ``digesting`` is set once it said "go on" ``after``
    times in a row (the pass's first ask, then between hours: hours are being made)."""

    def __init__(self, sleep: SleepTime, after: int = 3) -> None:
        self.sleep = sleep
        self.after = after
        self.free = 0
        self.digesting = threading.Event()

    def __call__(self) -> bool:
        waits = self.sleep.waits()
        self.free = 0 if waits else self.free + 1
        if self.free >= self.after:
            self.digesting.set()
        return waits

    def close(self) -> None:
        self.sleep.close()


def _until_stopped(worker: DigestWorker, within: float = 30.0) -> float:
    """Wait for the worker's pass to end, stopped for work; when it ended (monotonic)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        last = worker.last
        if last is not None and last.stopped:
            return time.monotonic()
        time.sleep(0.01)
    pytest.fail(f"the digester did not stop: {worker.info()}")


def _until_done(store: Store, worker: DigestWorker, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with store.read() as r:
            if r.digest_backlog() == 0 and worker.last is not None and not worker.last.stopped:
                return
        time.sleep(0.1)
    pytest.fail(f"the digester did not finish: {worker.info()}")


def test_on_battery_digesting_stops_within_a_second_when_the_user_comes_back_and_resumes(screen, tmp_path, monkeypatch):
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    paths = Paths(tmp_path / "home").ensure()
    store = _timeline(paths)
    power = tmp_path / "power_supply"
    power.mkdir()
    _supply(power, "AC", type="Mains", online="0")
    _supply(power, "BAT0", type="Battery", status="Discharging")
    _quiet(paths.spool)
    sleep = SleepTime(
        lambda: digester_waits(store, paths),
        spool=paths.spool,
        on_ac=lambda: on_ac_power(power),
        input_idle=InputIdle(screen.display),
        idle_s=1.0,
    )
    _xdotool(screen, "mousemove", "5", "5")
    assert sleep.waits() and sleep.reason == "on battery, the user is at work"
    watched = _Watched(sleep)
    worker = DigestWorker(store, busy=watched, interval_s=0.1).start()
    try:
        assert watched.digesting.wait(60), "the digester never started once the user was away"
        _xdotool(screen, "mousemove", "400", "300")  # the user is back
        moved = time.monotonic()
        stopped = _until_stopped(worker)
        assert stopped - moved < 2.0, f"stopped {stopped - moved:.2f} s after the pointer moved"
        first = worker.made["hours"]
        assert 0 < first < HOURS and sleep.reason == "on battery, the user is at work"
        _until_done(store, worker)  # a second later the user is away again: it resumes
        assert worker.made["hours"] == HOURS  # each hour made once: resumed where it stopped
        assert worker.made["days"] == 2
    finally:
        worker.stop()
        store.close()


def test_digesting_yields_at_once_to_a_spooled_frame_even_on_ac_power(tmp_path):
    paths = Paths(tmp_path / "home").ensure()
    store = _timeline(paths)
    power = tmp_path / "power_supply"
    power.mkdir()
    _supply(power, "AC", type="Mains", online="1")
    _supply(power, "BAT0", type="Battery", status="Charging")
    sleep = SleepTime(
        lambda: digester_waits(store, paths),
        spool=paths.spool,
        on_ac=lambda: on_ac_power(power),
        input_idle=lambda: 0.0,  # the user types all along: on AC it does not matter
    )
    watched = _Watched(sleep)
    worker = DigestWorker(store, busy=watched, interval_s=0.1).start()
    try:
        assert watched.digesting.wait(60)
        page = np.full((1080, 1920, 3), 255, dtype=np.uint8)
        frame = spool_frame(paths, datetime(2026, 12, 4, 10), page, (0, 0, 1920, 1080), True)  # the screen changed
        spooled = time.monotonic()
        stopped = _until_stopped(worker)
        assert stopped - spooled < 2.0, f"stopped {stopped - spooled:.2f} s after a frame was spooled"
        assert sleep.reason == "capture and OCR at work" and 0 < worker.made["hours"] < HOURS
        Path(frame).unlink()  # OCR took it
        _until_done(store, worker)
        assert worker.made["hours"] == HOURS
    finally:
        worker.stop()
        store.close()
