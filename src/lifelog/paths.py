"""Where lifelog keeps its data. ``LIFELOG_HOME`` relocates everything (tests use it)."""

from __future__ import annotations

import contextlib
import os
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
    def from_env(cls) -> "Paths":
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

    def ensure(self) -> "Paths":
        """Create the folders, private to the user (0700)."""
        for d in (self.data, self.spool, self.audio_spool, self.frames, self.audio, self.cache, self.logs, self.config_dir):
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


def _check_no_file_in_the_way(folder: Path) -> None:
    """Raise if ``folder``, or the nearest of its parents that exists, is not a folder."""
    for path in (folder, *folder.parents):
        if os.path.exists(path):  # False, not an error, where the user may not look (EACCES)
            if not os.path.isdir(path):
                raise DataFolderError(f"Cannot use the lifelog folder {folder}: {path} is a file, not a folder. {_ADVICE}")
            return


@contextlib.contextmanager
def atomic_private_file(final: Path, *, mode: int = 0o600, sync: bool = True) -> Iterator:
    """Write ``final`` all or nothing: a binary handle on a dot-prefixed temporary file (mode
    0600), fsynced and renamed into place when the block ends; removed if the block fails, so
    a reader never sees half a file and a crash leaves at most a ``.*.tmp`` to clean."""
    tmp = final.with_name(f".{final.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
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
