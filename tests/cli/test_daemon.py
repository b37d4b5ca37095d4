"""The daemon that owns the timeline, for real: started in the background on an Xvfb screen,
asked by other processes over its socket, paused, killed, restarted, installed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lifelog.api.client import OwnerError, _UnixConnection, find_owner
from lifelog.api.protocol import socket_path
from lifelog.paths import Paths
from lifelog.store import Store
from tests.cli.helpers import lifelog, lifelog_json
from tests.support.wait import wait_for

TICKER = 'i=100; while true; do i=$((i+1)); echo "ticket $i ready for review"; sleep 0.3; done'


@pytest.fixture
def env(screen, home):
    return {**os.environ, "DISPLAY": screen.display, "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}


@pytest.fixture
def daemon(env):
    """A running daemon; stopped (or killed) after the test."""
    started = lifelog_json("daemon", "start", env=env, timeout=180)
    yield started
    lifelog("daemon", "stop", env=env, timeout=300, check=False)
    if _alive(started["pid"]):
        os.kill(started["pid"], signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _ticker(env) -> subprocess.Popen:
    return subprocess.Popen(
        ["xterm", "-geometry", "100x30+0+0", "-fa", "DejaVu Sans Mono", "-fs", "13", "-e", "sh", "-c", TICKER],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _frames(home: Path):
    with Store(home / "lifelog.duckdb").read() as r:
        return r.frames_between(None, None), r.events_between(None, None), r.recordings()


def test_concurrent_clients_while_the_daemon_records(daemon, env, home):
    """Several processes search and ask for 1M-token windows for 30 s while the daemon records
    a changing screen: every read answers, no frame is lost, capture keeps 2 fps."""
    ticker = _ticker(env)
    client = (
        "import os, subprocess, sys, time\n"
        "end = time.monotonic() + 30; n = fails = 0\n"
        "while time.monotonic() < end:\n"
        "    for args in (['search', 'ticket review', '--json'], ['context', '--since', '1h', '--budget', '1000000']):\n"
        "        p = subprocess.run([sys.executable, '-m', 'lifelog.cli.app', *args], capture_output=True, text=True)\n"
        "        n += 1; fails += p.returncode != 0\n"
        "        if p.returncode: print(p.stderr, file=sys.stderr)\n"
        "print(n, fails)\n"
    )
    try:
        clients = [
            subprocess.Popen(
                [sys.executable, "-c", client], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(3)
        ]
        results = [c.communicate(timeout=300) for c in clients]
        status = lifelog_json("daemon", "status", env=env)
    finally:
        ticker.terminate()
    for out, err in results:
        reads, fails = map(int, out.split())
        assert reads >= 4 and fails == 0, err
    assert status["owner"]["fps_achieved"] >= 1.9, status["owner"]
    lifelog("daemon", "stop", env=env, timeout=300)
    frames, _, recordings = _frames(home)
    assert len(frames) == len({f.source_key for f in frames})
    assert len(frames) == sum(r["frames_kept"] for r in recordings) > 20


def _owner_once(env: dict, *, capturing: bool, what: str) -> dict:
    """The owner's status once its capture is on (or off), within 30 s."""

    def owner() -> dict | None:
        status = lifelog_json("daemon", "status", env=env)["owner"]
        return status if status["capturing"] is capturing else None

    return wait_for(owner, timeout=30, what=what, interval=0.5)


def test_pause_resume_and_the_gap_in_context(daemon, env, home):
    time.sleep(2)
    assert "Paused until" in lifelog("pause", "10m", env=env).stderr
    owner = _owner_once(env, capturing=False, what="capture to pause")
    assert owner["gap"]["reason"] == "paused" and owner["paused_until_s"] > 500
    going = lifelog_json("timeline", "--since", "10m", env=env)["ongoing_gap"]  # stored only when it ends
    assert going["reason"] == "paused" and going["seconds"] >= 0
    lifelog("resume", env=env)
    _owner_once(env, capturing=True, what="capture to resume")
    ctx = lifelog("context", "--since", "10m", env=env).stdout
    assert "· paused]" in ctx and "[gap " in ctx
    where = lifelog_json("timeline", "--since", "10m", env=env)
    assert [g["reason"] for g in where["gaps"]] == ["paused"] and where["ongoing_gap"] is None
    bad = lifelog("pause", "soon", env=env, check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    remote = find_owner(Paths(home))
    for seconds in (float("nan"), 3_000_000 * 86400.0, -1.0):  # never ends, past year 9999, negative
        with pytest.raises(OwnerError) as refused:
            remote.pause(seconds)
        assert refused.value.exit_code == 2, refused.value
    remote.close()
    time.sleep(1.5)  # a pause would have been applied by the supervisor's next tick
    assert lifelog_json("daemon", "status", env=env)["owner"]["capturing"] is True  # refused: not paused


def test_one_owner_at_a_time(daemon, env):
    again = lifelog("daemon", "start", env=env)
    assert "already running" in again.stderr and str(daemon["pid"]) in again.stderr
    rec = lifelog("record", "--duration", "3s", "--no-audio", env=env, check=False)
    assert rec.returncode == 1 and f"PID {daemon['pid']}" in rec.stderr and "Traceback" not in rec.stderr


def test_a_client_of_another_protocol_is_told(daemon, env, home):
    con = _UnixConnection(str(socket_path(Paths(home))), 5)
    con.request("GET", "/v1/status", headers={"Lifelog-Protocol": "9"})
    resp = con.getresponse()
    assert resp.status == 409 and "speaks protocol 1" in json.loads(resp.read())["error"]
    con.request("GET", "/v9/health")
    assert json.loads(con.getresponse().read())["protocol"] == 1


def test_kill_9_of_the_daemon_tree_then_restart(daemon, env, home):
    ticker = _ticker(env)
    try:
        wait_for(lambda: lifelog_json("search", "ticket", env=env), timeout=120, what="the ticker's text stored")
        time.sleep(2)  # frames keep coming: some are spooled and not yet stored when the kill comes
        os.killpg(daemon["pid"], signal.SIGKILL)  # the whole process group: owner and capture
        wait_for(lambda: not _alive(daemon["pid"]), timeout=10, what="the killed daemon to be gone")
        left = {p.name for p in (home / "spool").glob("*.png")}
        assert socket_path(Paths(home)).exists()  # stale: the next owner takes it over
        hits = lifelog_json("search", "ticket", env=env)  # no owner: answered from the file itself
        assert hits
        restarted = lifelog_json("daemon", "start", env=env, timeout=180)
        assert restarted["pid"] != daemon["pid"]
        time.sleep(3)
    finally:
        ticker.terminate()
    lifelog("daemon", "stop", env=env, timeout=300)
    frames, events, recordings = _frames(home)
    keys = {f.source_key for f in frames}
    assert len(keys) == len(frames) and left <= keys
    assert any(e["kind"] == "gap" and e["detail"]["reason"] == "recorder down" for e in events)
    assert all(r["ended"] is not None for r in recordings)
    with Store(home / "lifelog.duckdb").read() as r:
        assert r.stats().counters["open_spans"] == 0
    assert "· recorder down]" in lifelog("context", "--since", "1h", env=env).stdout


def test_the_systemd_unit(tmp_path, home):
    env = {**os.environ, "LIFELOG_HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env |= {"DISPLAY": ":7", "WAYLAND_DISPLAY": "wayland-7"}  # the installing shell's, not the session's
    proc = lifelog("daemon", "install", "--no-start", env=env)
    unit = tmp_path / "config" / "systemd" / "user" / "lifelog.service"
    assert str(unit) in proc.stderr
    text = unit.read_text()
    assert "Type=notify" in text and "KillMode=mixed" in text and f"LIFELOG_HOME={home}" in text
    assert f"ExecStart={sys.executable} -m lifelog.cli.app daemon run" in text
    # bound to the desktop session: started with it, stopped with it, the display from it
    assert "PartOf=graphical-session.target" in text and "WantedBy=graphical-session.target" in text
    assert "DISPLAY" not in text and "wayland-7" not in text
    if shutil.which("systemd-analyze"):
        check = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
        assert "lifelog.service" not in check.stderr or check.returncode == 0, check.stderr
    assert "Removed" in lifelog("daemon", "uninstall", env=env).stderr
    assert not unit.exists()


def _nice(pid: int, tid: int | None = None) -> int:
    stat = Path(f"/proc/{pid}/task/{tid or pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(stat[16])  # field 19 of stat, counted after the command name


def test_tokenising_runs_nicer_than_capture_and_the_api(daemon, env, home):
    pid = daemon["pid"]
    wait_for(lambda: _children(pid), timeout=30, what="a capture process", interval=0.2)
    base = _nice(os.getpid())
    threads = [_nice(pid, int(t.name)) for t in Path(f"/proc/{pid}/task").iterdir()]
    assert _nice(pid) == base + 10  # the recorder's thread: OCR and ASR
    assert base in threads  # the API's threads kept their priority
    assert [_nice(c) for c in _children(pid)] == [base] * len(_children(pid))  # capture too
    assert lifelog_json("status", env=env)["owner"]["capturing"] is True  # and the API answers


def _children(pid: int) -> list[int]:
    return [int(k) for t in Path(f"/proc/{pid}/task").iterdir() for k in (t / "children").read_text().split()]


def test_a_daemon_without_a_screen_waits_for_one_and_records_the_gap(home):
    env = {**os.environ, "DISPLAY": ":4242", "LIFELOG_HOME": str(home), "LIFELOG_AUDIO_SOURCE": "none"}
    started = lifelog_json("daemon", "start", env=env, timeout=180)
    try:
        owner = _owner_once(env, capturing=False, what="capture to stop for want of a screen")
        assert owner["gap"]["reason"].startswith("no screen")
    finally:
        lifelog("daemon", "stop", env=env, timeout=300)
    assert not _alive(started["pid"])
    ctx = lifelog("context", "--since", "10m", env=env).stdout
    assert "[gap " in ctx and "· no screen (" in ctx


def test_a_hung_owner_is_named_not_waited_for(daemon, env):
    os.kill(daemon["pid"], signal.SIGSTOP)
    try:
        started = time.monotonic()
        proc = lifelog("status", env=env, check=False, timeout=60)
        took = time.monotonic() - started
    finally:
        os.kill(daemon["pid"], signal.SIGCONT)
    assert proc.returncode == 1 and took < 15
    assert f"PID {daemon['pid']}" in proc.stderr and "did not answer" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert lifelog_json("status", env=env)["owner"] is not None  # the owner answers again, not the file
