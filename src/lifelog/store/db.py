"""Opening the DuckDB file: short-lived connections, lock retry, writer preference.

This is how commands open the file when no owner runs. While one runs (the daemon or
``lifelog record``; see ``store.py`` and ``lifelog.api``), it holds the only connection for
its whole life and everyone else asks it over its socket: nothing below applies then, and
there is no per-batch checkpoint (DuckDB checkpoints the WAL when it reaches 16 MB, and a
WAL left by a crash replays when the file next opens; tests/cli/test_daemon.py kills it).

Why connections are short
-------------------------
DuckDB lets one process open a database file read-write, and while it does no other
process can open the file at all; any number of processes may open it read-only while no
writer holds it. The recorder writes for hours while ``lifelog search``, ``context`` and
``status`` (other processes) must keep working, so no process holds the file for long:

* the writer opens read-write, writes one batch in ONE transaction, commits, closes
  (ingest does this every 1-2 s);
* a reader opens read-only, runs its queries, closes.

Whoever finds the file locked retries with jittered exponential backoff (10 ms doubling
to 100 ms) until ``busy_timeout`` (30 s by default) and then raises :class:`StoreBusy`
naming the process that holds the lock. Only DuckDB's lock-conflict message counts as
locked (:func:`is_lock_error`); any other failure to open, such as a damaged file, raises
:class:`StoreError` at once. A writer that waits loses nothing: captures stay
in the on-disk spool until the commit succeeds.

Writer preference. Locks on the file are not fair, so a stream of overlapping readers
could keep a writer out indefinitely (measured: three processes reading back to back kept
a writer out for the full 30 s). A writer that finds the file locked therefore takes an
exclusive ``flock`` on ``<db>.gate`` while it keeps retrying; a reader only opens the
database after briefly taking that gate shared. Readers already inside finish, new ones
queue behind the writer, and the writer gets in within one read (same three readers: the
longest wait of ten batches was 0.6 s). The kernel drops the flock when a process dies,
so a crash never wedges the gate.

Inside one process DuckDB shares one database instance per file between connections, and
refuses a read-only connection while a read-write one is open there. A per-file lock
therefore serialises :meth:`Store.read`/:meth:`Store.write` across threads, and nesting
them in one thread raises :class:`StoreError` (a Writer can read; use it).

Privacy: the database file is created 0600 (:func:`create_private_db`) and the gate file
0600. DuckDB deletes and re-creates its WAL (``<db>.wal``, present during a write or after
a crash) with the process umask, which the store cannot set per file; the CLI sets the
process umask to 0077 at entry (``cli/app.py``), and the 0700 data folder keeps it private
for any other caller.

Measured cost (2-core x86-64 VM, DuckDB 1.4.4, 20k-1M spans): opening a file takes
11-12 ms, a commit 5-11 ms (WAL fsync), closing 21-31 ms (the checkpoint folds the WAL
into the file, so readers never replay a WAL); a whole batch of 2 frames x 35 lines
60-76 ms, flat as the file grows. Skipping that checkpoint made every later open replay
the growing WAL (90-280 ms after 200-1000 batches), so it stays. A read-only open and
close costs 11-19 ms. (Search no longer needs the fts extension: its index is lifelog's own
postings tables, see ``search_index.py``; ``load_fts`` remains for reading and upgrading a
database that an older lifelog indexed with it.)

Two DuckDB behaviours shape the schema and the inserts (measured, 1.4.4):
* Any ART index (PRIMARY KEY, UNIQUE, CREATE INDEX) leaked about one 256 KiB block per
  open-write-close cycle: 80 MB for 3,000 rows after 300 batches, growing linearly. The
  tables therefore carry no ART index; time ranges are served by DuckDB's per-segment
  min/max zonemaps, which fit append-in-time-order data, and the store enforces id
  uniqueness itself (sequences, single writer).
* Binding a parameter costs ~0.15 ms when pandas is not installed (the binding retries
  ``import pandas`` per value), so bulk rows travel as ONE JSON parameter expanded with
  ``from_json`` (50 rows: 0.6 ms instead of 23-36 ms).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from lifelog.errors import StoreBusy, StoreError
from lifelog.store import crypt

if sys.platform != "win32":  # POSIX only; without it there is no writer preference, the retry still works.
    import fcntl

log = logging.getLogger(__name__)

BACKOFF_START_S = 0.010
BACKOFF_MAX_S = 0.100
DB_FILE_MODE = 0o600
OWNER_MEMORY_LIMIT = "512MB"  # DuckDB's buffer pool in a long-lived owner

_BASE_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


# DuckDB's words when another holder has the file (1.4.4, measured; its local_file_system.cpp):
#   IO Error: Could not set lock on file "<path>": Conflicting lock is held in <exe> (PID <n>)...
# Matched whole, because "lock" alone is also in "block" (checksum errors on a damaged file)
# and may be in the path itself.
_LOCK_CONFLICT = re.compile(
    r'Could not set lock on file ".*?": (Conflicting lock is held in|Lock is already held in current process)',
    re.DOTALL,
)
_DAMAGED = ("Corrupt database file", "not a valid DuckDB database file", "Could not read enough bytes")


def is_lock_error(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB saying another process holds the file."""
    return isinstance(exc, duckdb.IOException) and _LOCK_CONFLICT.search(str(exc)) is not None


def backoff_delays(start: float = BACKOFF_START_S, cap: float = BACKOFF_MAX_S) -> Iterator[float]:
    """Jittered exponential backoff: 10 ms doubling to 100 ms, each delay 50-100% of its step."""
    step = start
    while True:
        yield step * random.uniform(0.5, 1.0)
        step = min(step * 2, cap)


def connect(
    path: Path, *, read_only: bool, timeout: float, secret: str | None = None, own_instance: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open ``path``, retrying while another process holds it, for up to ``timeout`` s.

    With ``secret`` the file is an encrypted one, attached to an in-memory connection and made
    its default catalog (``crypt.py``); close what this returns with :func:`close`."""
    started = time.monotonic()
    gate = _Gate(gate_path(path))
    lock_error: Exception | None = None  # DuckDB's last word on who holds the file
    try:
        for delay in backoff_delays():
            if not read_only or gate.passable():
                con, lock_error = _try_open(path, read_only, lock_error, secret, own_instance)
                if con is not None:
                    if time.monotonic() - started > 1.0:
                        log.debug("waited %.1f s for %s", time.monotonic() - started, path)
                    return con
                if not read_only:
                    gate.hold()  # from now on new readers queue behind this writer
            if time.monotonic() + delay > started + timeout:
                raise StoreBusy(_busy_message(path, timeout, lock_error)) from lock_error
            time.sleep(delay)
    finally:
        gate.release()
    raise AssertionError("unreachable")  # backoff_delays() never ends


def _try_open(path: Path, read_only: bool, lock_error: Exception | None, secret: str | None, own: bool):
    """``(connection, lock_error)``; the connection is None while another process holds the file."""
    try:
        if secret is not None:
            return crypt.attach(path, secret, read_only=read_only, own_instance=own), lock_error
        return duckdb.connect(str(path), read_only=read_only, config=dict(_BASE_CONFIG)), lock_error
    except duckdb.Error as exc:
        if is_lock_error(exc):
            return None, exc
        raise StoreError(crypt.scrub(_open_error_message(path, exc), secret)) from None


def _open_error_message(path: Path, exc: Exception) -> str:
    if any(marker in str(exc) for marker in _DAMAGED):
        return (
            f"The lifelog database {path} is damaged and could not be opened ({exc}). Restore it "
            "from a backup, or move it aside and lifelog starts a new, empty timeline."
        )
    return f"Could not open the lifelog database {path}: {exc}"


def close(con: duckdb.DuckDBPyConnection) -> None:
    """Close a connection from :func:`connect` (an attached encrypted file is detached first)."""
    crypt.detach(con)
    con.close()


def connect_memory() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(":memory:", config=dict(_BASE_CONFIG))


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load the bundled fts extension (never downloads: the extension dir is the wheel's)."""
    import duckdb_ext

    duckdb_ext.init(con)
    con.execute("LOAD fts")


def _busy_message(path: Path, timeout: float, exc: Exception | None) -> str:
    match = re.search(r"held in .*?\bPID (\d+)", str(exc or ""), re.DOTALL)
    holder, stop = (f" (PID {match[1]})", f"`kill {match[1]}`") if match else ("", "`pgrep -af lifelog` lists them")
    return (
        f"The lifelog database {path} stayed locked by another process{holder} for more than "
        f"{timeout:g} s. Wait for it to finish or stop it ({stop}; a running `lifelog record` "
        f"stops on Ctrl-C), or wait longer: busy_timeout_s in config.toml or LIFELOG_BUSY_TIMEOUT_S."
    )


def gate_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".gate")


class _Gate:
    """The writer-preference turnstile: an flock on ``<db>.gate`` (see module docstring)."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None
        self.held = False

    def _open(self) -> int | None:
        """The gate's descriptor (opened once), or None where there is no gate."""
        if sys.platform == "win32":
            return None
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, DB_FILE_MODE)
            except OSError:  # read-only folder: no gate, plain retry still works
                return None
        return self.fd

    def passable(self) -> bool:
        """True unless a writer is waiting; takes the gate shared for an instant."""
        fd = self._open()
        if fd is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True

    def hold(self) -> None:
        """Take the gate exclusively if free; another waiting writer may hold it already."""
        fd = None if self.held else self._open()
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.held = True
        except OSError:
            pass

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd, self.held = None, False


class _ProcessGuard:
    """One connection per database file at a time within this process (see docstring)."""

    _lock = threading.Lock()
    _guards: dict[str, _ProcessGuard] = {}

    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self.owner: int | None = None

    @classmethod
    def for_path(cls, path: Path) -> _ProcessGuard:
        key = os.path.realpath(path)
        with cls._lock:
            return cls._guards.setdefault(key, cls())

    @contextlib.contextmanager
    def held(self, path: Path, timeout: float) -> Iterator[None]:
        if self.owner == threading.get_ident():
            raise StoreError(
                f"Store.read()/write() on {path} was nested inside another open one in the "
                "same thread; DuckDB allows one connection mode per file per process. "
                "Read through the Writer instead (it has every Reader method)."
            )
        if not self.mutex.acquire(timeout=timeout):
            raise StoreBusy(f"Another thread kept the lifelog database {path} busy for more than {timeout:g} s.")
        self.owner = threading.get_ident()
        try:
            yield
        finally:
            self.owner = None
            self.mutex.release()


def process_guard(path: Path, timeout: float):
    return _ProcessGuard.for_path(path).held(path, timeout)


def create_private_db(path: Path, secret: str | None = None) -> bool:
    """Create an empty DuckDB file at ``path`` with mode 0600, atomically; False if it exists.

    DuckDB creates files with the process umask and rejects a pre-created empty file, so
    the database is made in a private temporary folder next to ``path`` and hard-linked
    into place (no window where it is readable by others; a concurrent creator loses).
    """
    if path.exists():
        return False
    if not path.parent.exists():
        from lifelog.paths import make_private_dir

        make_private_dir(path.parent)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".lifelog-init-", dir=path.parent))
    try:
        tmp = tmp_dir / path.name
        if secret is None:
            duckdb.connect(str(tmp), config=dict(_BASE_CONFIG)).close()
        else:
            close(crypt.attach(tmp, secret, read_only=False))
        os.chmod(tmp, DB_FILE_MODE)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # no hard links on this filesystem: a tiny race, still 0600
            if path.exists():
                return False
            os.rename(tmp, path)
        return True
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
