"""Private files in folders others can write to: the atomic writer never writes through a planted
link or file, its result is 0600 whatever stood at the path, and a shared folder lifelog uses
(the long-path socket's, under /tmp) must be ours, 0700 and not a link."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from lifelog import paths as paths_module
from lifelog.errors import DataFolderError
from lifelog.paths import atomic_private_file, clean_stale_temporaries, make_shared_private_dir


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0)  # the worst case: whatever is not set explicitly comes out 0666/0777
    yield
    os.umask(old)


@pytest.fixture
def victim(tmp_path):
    """A file of the user's elsewhere that a planted link points at."""
    target = tmp_path / "elsewhere" / "notes.txt"
    target.parent.mkdir()
    target.write_text("keep me")
    return target


def _write(path, data=b"window") -> None:
    with atomic_private_file(path) as fh:
        fh.write(data)


def test_a_planted_symlink_at_the_output_path_is_replaced_not_followed(tmp_path, victim, open_umask):
    out = tmp_path / "shared" / "window.md"
    out.parent.mkdir()
    out.symlink_to(victim)
    _write(out)
    assert not out.is_symlink() and out.read_bytes() == b"window" and mode(out) == 0o600
    assert victim.read_text() == "keep me"


def test_a_planted_world_writable_file_at_the_output_path_is_replaced_by_a_private_one(tmp_path, open_umask):
    out = tmp_path / "window.md"
    out.write_text("planted")
    out.chmod(0o666)
    planted = os.stat(out).st_ino
    _write(out)
    assert out.read_bytes() == b"window" and mode(out) == 0o600 and os.stat(out).st_ino != planted


def test_planted_temporary_names_are_never_written_through(tmp_path, victim, monkeypatch, open_umask):
    """Whoever guesses (or, here, is told) the temporary names and plants a link or a 0666 file
    there (holding it open to read what comes) gains nothing: the writer takes another name."""
    names = iter(["guess1", "guess2", "fresh"])
    monkeypatch.setattr(paths_module.secrets, "token_hex", lambda n: next(names))
    out = tmp_path / "window.md"
    (tmp_path / ".window.md.guess1.tmp").symlink_to(victim)
    planted = tmp_path / ".window.md.guess2.tmp"
    planted.write_text("")
    planted.chmod(0o666)
    _write(out)
    assert out.read_bytes() == b"window" and mode(out) == 0o600
    assert victim.read_text() == "keep me" and planted.read_text() == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".window.md.guess1.tmp",
        ".window.md.guess2.tmp",
        "elsewhere",
        "window.md",
    ]


def test_a_failed_write_leaves_nothing(tmp_path):
    out = tmp_path / "window.md"
    with pytest.raises(RuntimeError):
        with atomic_private_file(out) as fh:
            fh.write(b"half")
            raise RuntimeError("disk gone")
    assert list(tmp_path.iterdir()) == []


def test_only_stale_temporaries_are_cleaned(tmp_path):
    old, young, other = tmp_path / ".a.1f2e.tmp", tmp_path / ".b.3c4d.tmp", tmp_path / "a.tmp"
    for p in (old, young, other):
        p.write_text("x")
    os.utime(old, (time.time() - 3600,) * 2)
    assert clean_stale_temporaries(tmp_path) == 1
    assert not old.exists() and young.exists() and other.exists()


def test_a_shared_folder_is_made_private_or_reused_if_ours(tmp_path, open_umask):
    folder = tmp_path / "lifelog-sock"
    make_shared_private_dir(folder, "do something else.")
    assert mode(folder) == 0o700
    make_shared_private_dir(folder, "do something else.")  # ours: used again


@pytest.mark.parametrize(
    "plant, says",
    [
        (lambda p, tmp: p.symlink_to(tmp), "is a symbolic link"),
        (lambda p, tmp: p.mkdir(mode=0o755), "is mode 0755, not 0700"),
        (lambda p, tmp: p.write_text("x"), "is not a folder"),
    ],
)
def test_a_planted_shared_folder_is_refused(tmp_path, open_umask, plant, says):
    folder = tmp_path / "lifelog-sock"
    plant(folder, tmp_path)
    with pytest.raises(DataFolderError, match=f"Refusing the folder {folder}: it {says}.*use a short path") as caught:
        make_shared_private_dir(folder, "use a short path.")
    assert "\n" not in str(caught.value)


def test_someone_elses_folder_is_refused(tmp_path):
    if os.getuid() == 0:
        folder = tmp_path / "theirs"
        folder.mkdir(mode=0o700)
        os.chown(folder, 65534, 65534)
    else:
        folder = Path("/")  # root's, for anyone else
    with pytest.raises(DataFolderError, match="belongs to user .*, not to you"):
        make_shared_private_dir(folder, "use a short path.")
