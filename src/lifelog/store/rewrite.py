"""Rewrite the database into a fresh file and swap it in, so deleted rows leave no bytes.

DuckDB marks deleted rows and frees their blocks without overwriting them, and the WAL holds
rows written since the last checkpoint: after ``forget`` the text is still in the file.
:func:`replace_with_copy` copies the live database into a new file (``COPY FROM DATABASE``:
tables, their rows in order, sequences continuing after their last value, the migrations
record), which only ever holds live rows, then makes it the database with one rename:

1. the copy is written under a temporary name beside the database (:func:`temp_path`),
   attached to the connection that holds the database (:func:`attach`), and detached, which
   checkpoints it into its file; the file is fsynced;
2. the old connection is closed (DuckDB folds its WAL into the old file); if a WAL is still
   there the swap is abandoned (it would replay onto the copy);
3. ``os.replace`` puts the copy in the database's place, and the folder is fsynced.

A kill -9 before the rename leaves the old database whole and a temporary file, which the
next rewrite or owner start removes (:func:`clean_leftovers`); after it, the new one. A
command holds the database alone throughout (a short-lived read-write connection). The owner
copies from a snapshot while it keeps writing and holds its writes only to copy what was
written meanwhile and swap (``live_copy.py``; reads wait for the swap, :class:`SwapGate`);
if that delta cannot be caught up briefly it copies again, and after :data:`LIVE_TRIES`
tries holds its writes for the whole copy.

A forget that committed records itself in :func:`pending_path` until its files are deleted
and the copy swapped in, so a crash between leaves work the next forget or owner start ends.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from lifelog.errors import Stale, StoreError
from lifelog.paths import atomic_private_file, fsync_path
from lifelog.store import crypt
from lifelog.store.db import create_private_db
from lifelog.store.sql import one

log = logging.getLogger(__name__)

FRESH = "lifelog_fresh"
LIVE_TRIES = 3  # copies from a snapshot before the owner holds its writes for a whole copy
DIE_AT_ENV = "LIFELOG_TEST_FORGET_DIE_AT"  # tests: die as kill -9 would right after this step


def step(name: str, env: str = DIE_AT_ENV) -> None:
    """A point where a test may stop the process dead (the variable ``env`` names the step):
    no cleanup, no checkpoint."""
    if os.environ.get(env) == name:
        os._exit(9)


def temp_path(db_path: Path) -> Path:
    return db_path.with_name(f".{db_path.name}.rewrite")


def wal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".wal")


def pending_path(db_path: Path) -> Path:
    """Where a forget that committed lists the files still to delete (JSON, no text)."""
    return db_path.with_name(f".{db_path.name}.forget")


def clean_leftovers(db_path: Path) -> bool:
    """Remove a copy left by a rewrite that was killed; True if there was one. Only while
    holding the database (else it may be another process's copy in progress)."""
    found = False
    for p in (temp_path(db_path), wal_path(temp_path(db_path))):
        if p.exists():
            p.unlink()
            found = True
    return found


def attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str, secret: str | None) -> None:
    """Attach the database file ``path`` as ``alias``, encrypted with ``secret`` when the
    timeline is (``crypt.py``): the one place the rewrite opens a file."""
    crypt.attach_as(con, path, alias, secret)


def copy_live(con: duckdb.DuckDBPyConnection, db_path: Path, secret: str | None = None) -> Path:
    """Copy the database ``con`` holds into a fresh file beside it (encrypted with ``secret``
    when given, as the database is); returns that file."""
    clean_leftovers(db_path)
    tmp = temp_path(db_path)
    create_private_db(tmp, secret)
    source = one(con.execute("SELECT current_database()"))[0]
    attach(con, tmp, FRESH, secret)
    try:
        con.execute(f'COPY FROM DATABASE "{source}" TO {FRESH}')
    except BaseException:
        con.execute(f"DETACH {FRESH}")
        clean_leftovers(db_path)
        raise
    con.execute(f"DETACH {FRESH}")  # checkpoints the copy into its file
    if wal_path(tmp).exists():
        clean_leftovers(db_path)
        raise StoreError(f"Rewriting the lifelog database {db_path} left a WAL behind; nothing was swapped.")
    fsync_path(tmp)
    return tmp


def swap_in(tmp: Path, db_path: Path) -> None:
    """Rename the copy over the database (its connection closed) and make the rename durable."""
    if wal_path(db_path).exists():
        clean_leftovers(db_path)
        raise StoreError(
            f"The lifelog database {db_path} still has a WAL after closing; the rewrite was "
            "abandoned and the database is unchanged. Run the forget again."
        )
    os.replace(tmp, db_path)
    fsync_path(db_path.parent)


def replace_with_copy(con: duckdb.DuckDBPyConnection, db_path: Path, close=None, secret: str | None = None) -> None:
    """Copy, close ``con`` (always; with ``close``, default ``con.close``), swap: see the
    module docstring. The caller opens the database again."""
    try:
        tmp = copy_live(con, db_path, secret)
        step("copy")
    except duckdb.Error as exc:
        raise StoreError(f"Rewriting the lifelog database {db_path} failed: {exc}") from exc
    finally:
        (close or (lambda c: c.close()))(con)
    swap_in(tmp, db_path)
    step("swap")


def write_pending(db_path: Path, work: dict) -> None:
    with atomic_private_file(pending_path(db_path)) as fh:
        fh.write(json.dumps(work).encode())


def read_pending(db_path: Path) -> dict | None:
    try:
        return json.loads(pending_path(db_path).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


class SwapGate:
    """Readers of the owner's connection share it; a swap takes it alone: readers in flight
    finish first, new ones wait until the new file is open (none sees a closed connection)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._swapping = False
        self._mine = threading.local()  # reads this thread holds: a nested read never waits

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        depth = getattr(self._mine, "depth", 0)
        with self._cond:
            if depth == 0:
                self._cond.wait_for(lambda: not self._swapping)
            self._readers += 1
        self._mine.depth = depth + 1
        try:
            yield
        finally:
            self._mine.depth = depth
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def swapping(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._swapping)
            self._swapping = True
            self._cond.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._cond:
                self._swapping = False
                self._cond.notify_all()


def rewrite_store(store, *, meanwhile=None) -> None:
    """Rewrite ``store``'s file (see the module docstring). Without an owner, on a short-lived
    read-write connection; in the owner, from a snapshot while it keeps writing, then with reads
    in flight finished and new reads and writes held until its connection is open on the new
    file (``store._swap``, its write lock). ``meanwhile`` (tests) runs once each copy is made,
    before the lock is taken to catch up: writes it makes land in the copy's delta."""
    from lifelog.store import db

    if store._owned is None:
        with db.process_guard(store.db_path, store.busy_timeout):
            secret = store.secret()
            con = db.connect(store.db_path, read_only=False, timeout=store.busy_timeout, secret=secret)
            replace_with_copy(con, store.db_path, close=db.close, secret=secret)
        return
    store.rewriting = True
    try:
        for _ in range(LIVE_TRIES):
            try:
                return _rewrite_live(store, meanwhile)
            except Stale as exc:
                log.info(
                    "writes during the copy of %s cannot be caught up briefly (%s): copying again", store.db_path, exc
                )
        with store._swap.swapping(), store._connection(read_only=False) as con:
            try:
                replace_with_copy(con, store.db_path, close=db.close, secret=store.secret())
            finally:
                store._owned = _reopen_owned(store)  # the new file, or the old one if the copy failed
    finally:
        store.rewriting = False


def _rewrite_live(store, meanwhile=None) -> None:
    """The owner's rewrite: mark, copy, catch up, swap (``live_copy.py``); raises ``Stale``
    (nothing changed) when the writes meanwhile cannot be caught up under a short lock."""
    from lifelog.store import db, live_copy

    con, secret, tmp = store._owned, store.secret(), temp_path(store.db_path)
    with store._connection(read_only=False):  # no write half done while the snapshot begins
        clean_leftovers(store.db_path)
        create_private_db(tmp, secret)
        cur = live_copy.snapshot_cursor(con)
        try:
            attach(cur, tmp, FRESH, secret)  # on the cursor: the owner's connection stays the readers'
            cur.begin()
            marks = live_copy.mark(cur)
        except BaseException:
            _abandon(cur, store.db_path)
            raise
    try:
        source = one(cur.execute("SELECT current_database()"))[0]
        cur.execute(f'COPY FROM DATABASE "{source}" TO {FRESH}')
        cur.commit()
        cur.execute(f"CHECKPOINT {FRESH}")  # the copy into its file now, not under the lock
        step("copy")
        if meanwhile is not None:
            meanwhile()
        with store._connection(read_only=False):  # the forget's deletes folded into the old file
            cur.execute("CHECKPOINT")  # now, a hold of its own, not while the swap holds writes
    except BaseException as exc:
        _abandon(cur, store.db_path)
        if isinstance(exc, duckdb.Error):
            raise StoreError(f"Rewriting the lifelog database {store.db_path} failed: {exc}") from exc
        raise
    with store._swap.swapping(), store._connection(read_only=False):
        held = time.monotonic()
        try:
            needs = live_copy.plan(live_copy.logged(cur), marks)
            cur.begin()
            live_copy.catch_up(cur, source, FRESH, needs, marks)
            cur.commit()
            step("catch_up")
            live_copy.stop_logging(cur)
            cur.execute(f"DETACH {FRESH}")  # checkpoints what was caught up
            cur.close()
            caught_up = time.monotonic()
        except BaseException as exc:
            _abandon(cur, store.db_path)
            if isinstance(exc, duckdb.Error):
                raise StoreError(f"Rewriting the lifelog database {store.db_path} failed: {exc}") from exc
            raise
        try:
            if wal_path(tmp).exists():
                clean_leftovers(store.db_path)
                raise StoreError(
                    f"Rewriting the lifelog database {store.db_path} left a WAL behind; nothing was swapped."
                )
            fsync_path(tmp)
            db.close(con)
            swap_in(tmp, store.db_path)
            step("swap")
        finally:
            store._owned = _reopen_owned(store)  # the new file, or the old one if the swap failed
        log.info(
            "rewrote %s: writes held %.2f s (catching up %s: %.2f s)",
            store.db_path,
            time.monotonic() - held,
            ", ".join(sorted(needs)) or "nothing",
            caught_up - held,
        )


def _abandon(cur: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Undo what a live rewrite set up: its transaction, the query log, the copy."""
    from lifelog.store import live_copy

    for undo in (
        cur.rollback,
        lambda: live_copy.stop_logging(cur),
        lambda: cur.execute(f"DETACH DATABASE IF EXISTS {FRESH}"),
        cur.close,
    ):
        try:
            undo()
        except duckdb.Error:
            pass
    clean_leftovers(db_path)


def _reopen_owned(store) -> duckdb.DuckDBPyConnection:
    """The owner's connection again, set up as ``Store.open_owner`` sets it."""
    from lifelog.store import db
    from lifelog.store.db import OWNER_MEMORY_LIMIT

    con = db.connect(
        store.db_path, read_only=False, timeout=store.busy_timeout, secret=store.secret(), own_instance=True
    )
    con.execute(f"SET memory_limit = '{OWNER_MEMORY_LIMIT}'")
    spill = str(store.db_path.parent / "tmp").replace("'", "''")
    con.execute(f"SET temp_directory = '{spill}'")
    return con
