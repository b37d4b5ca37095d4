"""The owner's socket is private from the moment it exists, and the long-path fallback folder
under the temp dir is used only if it is ours: a folder planted there first is refused."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from lifelog.api.client import find_owner
from lifelog.api.protocol import bind_private, socket_path
from lifelog.api.server import OwnerServer
from lifelog.api.timeline import LocalTimeline
from lifelog.daemon.ownership import OwnerLock
from lifelog.errors import DataFolderError
from lifelog.paths import Paths
from lifelog.store import Store
from tests.cli.helpers import lifelog


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0)  # the worst case: a socket bound without care comes out 0777
    yield
    os.umask(old)


@pytest.fixture
def deep(tmp_path, monkeypatch):
    """A LIFELOG_HOME too deep for a Unix socket, and a temp dir of the test's own."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return Paths(tmp_path / ("d" * 100) / "home")


def test_the_socket_is_0600_right_after_bind_and_replaces_a_dead_owners(tmp_path, open_umask):
    path = tmp_path / "lifelog.sock"
    bind_private(path).close()  # a dead owner's socket file, left behind
    sock = bind_private(path)
    try:
        assert stat.S_ISSOCK(os.lstat(path).st_mode) and mode(path) == 0o600  # before listen, before any chmod
    finally:
        sock.close()
    assert os.umask(0) == 0  # the process umask is as it was


def test_the_owner_serves_on_a_private_socket(tmp_path, open_umask):
    home = Paths(tmp_path / "home").ensure()
    lock, store = OwnerLock(home, "test"), Store.open_owner(home.db)
    server = OwnerServer(home, LocalTimeline(home, store), lock.info).start()
    try:
        assert mode(socket_path(home)) == 0o600
        owner = find_owner(home)
        assert owner is not None and owner.owner["role"] == "test"
        owner.close()
    finally:
        server.stop()
        store.close()
        lock.release()


def test_the_long_path_fallback_folder_is_made_private(deep, open_umask):
    path = socket_path(deep)
    assert path.parent.parent == Path(tempfile.gettempdir()) and mode(path.parent) == 0o700
    assert socket_path(deep) == path  # the owner and its clients find the same one


def test_a_planted_fallback_folder_is_refused(deep, tmp_path):
    elsewhere = tmp_path / "attacker"
    elsewhere.mkdir(mode=0o777)
    folder = socket_path(deep).parent
    folder.rmdir()
    folder.symlink_to(elsewhere)
    with pytest.raises(
        DataFolderError, match=f"Refusing the folder {folder}: it is a symbolic link.*shorter LIFELOG_HOME"
    ):
        socket_path(deep)


def test_a_command_refuses_a_planted_fallback_folder_in_one_line(deep, tmp_path):
    folder = socket_path(deep).parent
    folder.chmod(0o755)  # someone made it readable (or made it first)
    env = {**os.environ, "LIFELOG_HOME": str(deep.home), "TMPDIR": tempfile.gettempdir()}
    proc = lifelog("status", env=env, check=False)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert f"Refusing the folder {folder}: it is mode 0755, not 0700" in proc.stderr and "Traceback" not in proc.stderr
