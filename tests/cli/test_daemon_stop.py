"""`lifelog daemon stop` signals only an owner: a process that holds owner.lock now and runs
lifelog. After a crash the lock file still names the dead owner's PID, which the kernel may
have given to any other program since; that program is never signalled."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys

import pytest

from lifelog.api.protocol import lock_path
from lifelog.daemon.pids import _python_runs_lifelog, is_lifelog_process
from lifelog.paths import Paths
from tests.cli.helpers import lifelog


@pytest.fixture
def paths(home):
    return Paths(home).ensure()


@pytest.fixture
def bystander():
    """An unrelated program that happens to have the PID a dead owner wrote."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def _write_lock(paths: Paths, pid: int) -> None:
    lock_path(paths).write_text(json.dumps({"pid": pid, "role": "daemon", "started": "2026-12-01T09:00:00+00:00"}))


def _stop(home) -> subprocess.CompletedProcess:
    return lifelog("daemon", "stop", env={**os.environ, "LIFELOG_HOME": str(home)}, check=False, timeout=60)


def test_a_stale_lock_naming_another_program_leaves_it_alive(paths, home, bystander):
    _write_lock(paths, bystander.pid)  # nobody holds the lock: the owner that wrote it died
    proc = _stop(home)
    assert proc.returncode == 0 and proc.stderr.strip() == "lifelog is not running.", proc.stderr
    assert bystander.poll() is None


def test_a_locked_lock_naming_another_program_is_not_signalled(paths, home, bystander):
    fd = os.open(lock_path(paths), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held, but by something that is not lifelog (this test)
    _write_lock(paths, bystander.pid)
    try:
        proc = _stop(home)
    finally:
        os.close(fd)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert f"names PID {bystander.pid} (sleep 60), which is not lifelog: nothing was signalled" in proc.stderr
    assert bystander.poll() is None


def test_a_lifelog_owner_that_holds_the_lock_but_does_not_answer_is_stopped(paths, home):
    """No socket answers, the lock is held by a lifelog process: it gets SIGTERM and stop waits."""
    (paths.logs / "daemon.log").write_text("started\n")
    fd = os.open(lock_path(paths), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    owner = subprocess.Popen(
        [sys.executable, "-m", "lifelog.cli.app", "daemon", "logs", "-f"],
        pass_fds=(fd,),
        env={**os.environ, "LIFELOG_HOME": str(home)},
        stdout=subprocess.PIPE,
    )
    os.close(fd)  # the child holds the lock now
    _write_lock(paths, owner.pid)
    try:
        assert owner.stdout.readline() == b"started\n"  # running (during exec its command line reads empty)
        assert is_lifelog_process(owner.pid) and not is_lifelog_process(os.getpid())
        proc = _stop(home)
        assert proc.returncode == 0 and f"lifelog (PID {owner.pid}) stopped." in proc.stderr, proc.stderr
        assert owner.wait(10) == -15
    finally:
        owner.kill()
        owner.wait()
        owner.stdout.close()


@pytest.mark.parametrize(
    "args, runs",
    [
        (["-m", "lifelog.cli.app", "daemon", "run"], True),
        (["-u", "-m", "lifelog"], True),
        (["/venv/bin/lifelog", "record"], True),
        (["-m", "pytest", "lifelog"], False),
        (["tool.py", "lifelog"], False),
        (["-c", "import lifelog"], False),
        ([], False),
    ],
)
def test_which_python_processes_run_lifelog(args, runs):
    assert _python_runs_lifelog(args) is runs
