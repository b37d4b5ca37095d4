"""Where lifelog keeps its data. ``LIFELOG_HOME`` relocates everything (tests use it)."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from lifelog.errors import DataFolderError

APP = "lifelog"


@dataclass(frozen=True)
class Paths:
    home: Path | None = None

    @classmethod
    def from_env(cls) -> Paths:
        """The folders for this environment; :class:`DataFolderError` if a file stands in the way."""
        home = os.environ.get("LIFELOG_HOME")
        paths = cls(Path(home).expanduser().resolve() if home else None)
        _check_no_file_in_the_way(paths.data)
        return paths

    def _dir(self, sub: str, default: str) -> Path:
        return self.home / sub if self.home else Path(default)

    @property
    def data(self) -> Path:
        return self.home or Path(platformdirs.user_data_dir(APP))

    @property
    def config_dir(self) -> Path:
        return self._dir("config", platformdirs.user_config_dir(APP))

    @property
    def cache(self) -> Path:
        return self._dir("cache", platformdirs.user_cache_dir(APP))

    @property
    def logs(self) -> Path:
        return self._dir("logs", platformdirs.user_log_dir(APP))

    @property
    def db(self) -> Path:
        return self.data / "lifelog.duckdb"

    @property
    def spool(self) -> Path:
        return self.data / "spool"

    @property
    def frames(self) -> Path:
        return self.data / "frames"

    @property
    def audio_spool(self) -> Path:
        return self.spool / "audio"

    @property
    def audio(self) -> Path:
        return self.data / "audio"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def key_file(self) -> Path:
        """The timeline's data key, wrapped by the passphrase (present only when encrypted)."""
        return self.data / "lifelog.key"

    def ensure(self) -> Paths:
        """Create the folders, private to the user (0700)."""
        for d in (
            self.data,
            self.spool,
            self.audio_spool,
            self.frames,
            self.audio,
            self.cache,
            self.logs,
            self.config_dir,
        ):
            make_private_dir(d)
        return self


_ADVICE = "Point LIFELOG_HOME at a folder you own and can write to."


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) and make it 0700; :class:`DataFolderError` if refused."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _check_no_file_in_the_way(path)
        raise DataFolderError(f"Cannot create the lifelog folder {path}: {exc.strerror}. {_ADVICE}") from exc
    try:
        os.chmod(path, 0o700)
    except OSError as exc:
        raise DataFolderError(
            f"Cannot make the lifelog folder {path} private (chmod 700): {exc.strerror}. {_ADVICE}"
        ) from exc


def make_shared_private_dir(path: Path, why: str) -> None:
    """Create ``path`` 0700 in a folder others can write to (the temp dir), or use the one there
    if it is ours: a real folder (not a link), owned by this user, 0700; else one line
    (:class:`DataFolderError`), since whoever made it could read or replace what we put in it.
    ``why``: what the user can do instead."""
    try:
        os.mkdir(path, 0o700)
        os.chmod(path, 0o700)  # the umask may have taken bits away
    except FileExistsError:
        pass
    except OSError as exc:
        raise DataFolderError(f"Cannot create the lifelog folder {path}: {exc.strerror}. {why}") from exc
    problem = private_dir_problem(path)
    if problem:
        raise DataFolderError(
            f"Refusing the folder {path}: it {problem}, so someone else could reach what lifelog "
            f"keeps there. Remove it if it is yours (lifelog makes it again), or {why}"
        )


def private_dir_problem(path: Path) -> str | None:
    """Why ``path`` is not a folder (not a link to one) that this user owns and nobody else may
    enter (0700), or None."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "is not a folder"
    if st.st_uid != os.getuid():
        return f"belongs to user {st.st_uid}, not to you"
    if stat.S_IMODE(st.st_mode) & 0o077:
        return f"is mode {stat.S_IMODE(st.st_mode):04o}, not 0700"
    return None


def _check_no_file_in_the_way(folder: Path) -> None:
    """Raise if ``folder``, or the nearest of its parents that exists, is not a folder."""
    for path in (folder, *folder.parents):
        if os.path.exists(path):  # False, not an error, where the user may not look (EACCES)
            if not os.path.isdir(path):
                raise DataFolderError(
                    f"Cannot use the lifelog folder {folder}: {path} is a file, not a folder. {_ADVICE}"
                )
            return


@contextlib.contextmanager
def atomic_private_file(final: Path, *, mode: int = 0o600, sync: bool = True) -> Iterator:
    """Write ``final`` all or nothing: a binary handle on a new temporary file beside it, fsynced
    and renamed into place when the block ends; removed if the block fails, so a reader never
    sees half a file and a crash leaves at most a ``.*.tmp`` to clean.

    The temporary name is random and opened with ``O_EXCL|O_NOFOLLOW``, so in a shared folder a
    link or a file planted under a name we would use is never written through; the file is
    ``mode`` (0600) whatever the umask; and the rename replaces whatever stands at ``final``
    (a planted symlink is replaced, never followed; a planted 0666 file is replaced by ours)."""
    fd, tmp = _create_private(final, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


TMP_SUFFIX = ".tmp"
_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _create_private(final: Path, mode: int) -> tuple[int, Path]:
    """A new file ``.NAME.RANDOM.tmp`` beside ``final``, created by us alone (never an existing
    file or link), with exactly ``mode``."""
    for _ in range(100):
        tmp = final.with_name(f".{final.name}.{secrets.token_hex(6)}{TMP_SUFFIX}")
        try:
            fd = os.open(tmp, _EXCLUSIVE, mode)
        except FileExistsError:
            continue  # taken (by chance, or planted): another name
        os.fchmod(fd, mode)  # exactly mode, whatever the umask
        return fd, tmp
    raise FileExistsError(errno.EEXIST, "no free temporary name beside it", str(final))


def clean_stale_temporaries(folder: Path, older_than_s: float = 60.0) -> int:
    """Remove the atomic writer's temporary files (``.*.tmp``) that a crash left in ``folder``,
    if older than ``older_than_s`` (a younger one may be another process's write in flight);
    how many went."""
    cutoff, n = time.time() - older_than_s, 0
    for p in folder.glob(f".*{TMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            if p.lstat().st_mtime < cutoff:
                p.unlink()
                n += 1
    return n


def fsync_path(path: Path) -> None:
    """Flush a file or a folder (a rename in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
