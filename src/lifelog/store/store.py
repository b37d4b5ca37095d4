"""``Store``: the one entry point other layers use to read and write the timeline.

Two ways to hold the file:

* **Owner** (:meth:`Store.open_owner`): the process that owns the timeline (``lifelog daemon
  run`` or ``lifelog record``) opens the file once, read-write, and keeps that one connection
  until :meth:`close`. Every read runs on its own cursor of it, so reads run concurrently
  with each other and with a write (DuckDB's MVCC: a reader sees the last commit); writes
  are serialised by a lock. Other processes cannot open the file at all then, so they ask
  the owner over its socket (``lifelog.api``).
* **Short-lived** (the constructor): when no owner runs, a command opens the file for one
  read or one write transaction and closes it again (see ``store/db.py``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import duckdb

from lifelog.errors import PassphraseError, StoreBusy, StoreError, StoreFull
from lifelog.store import crypt, db, keys, migrations, rewrite
from lifelog.store.db import OWNER_MEMORY_LIMIT, connect, connect_memory, create_private_db, process_guard
from lifelog.store.fair_lock import FairLock
from lifelog.store.reader import Reader
from lifelog.store.writer import Writer

log = logging.getLogger(__name__)


class Store:
    """The DuckDB timeline at ``db_path``, opened briefly for each read or write batch.

    See ``store/db.py`` for why no connection stays open and how lock waits work:
    ``busy_timeout`` is how long a read or write waits for another process before
    raising ``StoreBusy``.
    """

    def __init__(self, db_path: Path, *, busy_timeout: float = 30.0):
        self.db_path = Path(db_path)
        self.busy_timeout = busy_timeout
        self._schema_ready = False
        self._owned: duckdb.DuckDBPyConnection | None = None  # the owner's one connection
        self._write_lock = FairLock()  # first come, first served: no write waits behind a chain of another's
        self._swap = rewrite.SwapGate()  # the owner's reads, and a forget's swap of the file (rewrite.py)
        # True while the owner rewrites its file: background writers whose changes the copy could
        # not catch up briefly (the embedder's vectors) wait, so the rewrite never needs the lock long
        self.rewriting = False

    @classmethod
    def open_owner(cls, db_path: Path, *, busy_timeout: float = 30.0) -> Store:
        """Open the file once and keep it: this process owns the timeline until ``close()``."""
        store = cls(db_path, busy_timeout=busy_timeout)
        create_private_db(store.db_path, store.secret())
        store._owned = connect(
            store.db_path, read_only=False, timeout=busy_timeout, secret=store.secret(), own_instance=True
        )
        try:
            # A connection held for days must not keep growing DuckDB's buffer pool toward its
            # default (80% of RAM): bounded, it spills to temporary files under the data folder.
            store._owned.execute(f"SET memory_limit = '{OWNER_MEMORY_LIMIT}'")
            spill = str(store.db_path.parent / "tmp").replace("'", "''")
            store._owned.execute(f"SET temp_directory = '{spill}'")
            store.migrate()
            store._summarise_hours()
            # Schema changes must not wait in the WAL: DuckDB 1.4.4 cannot replay a CREATE whose
            # DEFAULT calls nextval() after a crash ("GetDefaultDatabase with no default
            # database set") and the file would not open again. Rows replay fine.
            store._owned.execute("CHECKPOINT")
        except BaseException:
            store.close()
            raise
        return store

    @property
    def is_owner(self) -> bool:
        """Whether this process holds the file for its life (``open_owner``), its writes
        serialised by a lock, rather than opening it for each transaction."""
        return self._owned is not None

    def _summarise_hours(self) -> None:
        """Summarise the hours stored since an owner last did (``hours.py``); a failure only
        leaves them to be read from their lines until the owner's next pass."""
        try:
            with self.write() as w:
                w.summarise_hours()
        except StoreError as exc:
            log.warning("summarising hours at open failed: %s", exc)

    def close(self) -> None:
        """Let go of the owner's connection (DuckDB checkpoints the WAL into the file)."""
        con, self._owned = self._owned, None
        if con is not None:
            with self._write_lock:
                try:
                    db.close(con)
                except duckdb.Error as exc:
                    log.warning("closing %s failed: %s", self.db_path, exc)

    def secret(self) -> str | None:
        """DuckDB's ENCRYPTION_KEY for this file, None for a plaintext one (``keys.py``): the
        file's header decides; a file yet to be made is encrypted when the timeline is."""
        data_dir = self.db_path.parent
        if crypt.is_encrypted_file(self.db_path) or (not self._db_exists() and keys.is_encrypted(data_dir)):
            key = keys.data_key(data_dir)
            if key is None:
                raise PassphraseError(
                    f"The lifelog database {self.db_path} is encrypted but its key file "
                    f"{keys.key_path(data_dir)} is missing: restore it from a backup."
                )
            return keys.db_secret(key)
        return None

    def migrate(self) -> list[int]:
        """Apply pending migrations; create the file (0600) and its folder if missing."""
        if self._owned is None:
            create_private_db(self.db_path, self.secret())
        with self._connection(read_only=False) as con:
            try:
                applied = migrations.apply(con)
            except duckdb.Error as exc:
                raise StoreError(f"Could not migrate the lifelog database {self.db_path}: {exc}") from exc
        if applied:
            log.info("migrated %s to schema version %s", self.db_path, applied[-1])
        self._schema_ready = True
        return applied

    @contextlib.contextmanager
    def write(self) -> Iterator[Writer]:
        """One read-write transaction: commit on success, roll back on an exception, always close.

        Once the commit returns, the batch is durable (DuckDB's WAL is synced), so a
        failure while closing afterwards is logged, not raised: the caller may delete
        its spool files.
        """
        if not self._schema_ready:
            self.migrate()
        with self._connection(read_only=False) as con:
            cur = crypt.cursor(con) if self._owned is not None else con  # the owner's connection stays open
            try:
                yield from self._transaction(cur)
            finally:
                if cur is not con:
                    cur.close()

    def _transaction(self, con: duckdb.DuckDBPyConnection) -> Iterator[Writer]:
        con.begin()
        try:
            writer = Writer(con, self.db_path)
            yield writer
            writer.finish()  # past hours that gained lines: their summaries, in this transaction
        except BaseException as exc:
            con.rollback()
            if isinstance(exc, duckdb.Error):
                raise _write_error(exc)(f"Writing to the lifelog database {self.db_path} failed: {exc}") from exc
            raise
        try:
            con.commit()
        except duckdb.Error as exc:
            raise _write_error(exc)(f"Committing to the lifelog database {self.db_path} failed: {exc}") from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Reader]:
        """A read-only view; on a home with no database yet, an empty in-memory one."""
        if self._owned is not None:  # a cursor of its own: concurrent with other reads and the writer
            with self._swap.reading():  # a rewrite swaps the file between reads, never under one
                cursor = crypt.cursor(self._owned)
                try:
                    with _wrap_errors(self.db_path):
                        yield Reader(cursor, self.db_path)
                finally:
                    cursor.close()
            return
        if not self._db_exists():
            con = connect_memory()
            try:
                migrations.apply(con)
                with _wrap_errors(self.db_path):
                    yield Reader(con, None)
            finally:
                con.close()
            return
        with self._connection(read_only=True) as con:
            with _wrap_errors(self.db_path):
                current = self._schema_ready or self._schema_current(con)
            if current:
                with _wrap_errors(self.db_path):
                    yield Reader(con, self.db_path)
                return
        self.migrate()  # an older file: bring it up to date once, then read
        with self._connection(read_only=True) as con, _wrap_errors(self.db_path):
            yield Reader(con, self.db_path)

    def _db_exists(self) -> bool:
        try:
            return self.db_path.stat().st_size > 0
        except (FileNotFoundError, NotADirectoryError):
            return False

    def _schema_current(self, con: duckdb.DuckDBPyConnection) -> bool:
        version = migrations.current_version(con)
        latest = migrations.latest_version()
        if version is not None and version > latest:
            raise StoreError(
                f"The lifelog database {self.db_path} is at schema version {version}, newer "
                f"than this lifelog knows ({latest}). Upgrade lifelog to read it."
            )
        self._schema_ready = version == latest
        return self._schema_ready

    @contextlib.contextmanager
    def _connection(self, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._owned is not None:  # only writes come here: one at a time
            if not self._write_lock.acquire(timeout=self.busy_timeout):
                raise StoreBusy(
                    f"Another write kept the lifelog database {self.db_path} busy for more "
                    f"than {self.busy_timeout:g} s."
                )
            try:
                yield self._owned
            finally:
                self._write_lock.release()
            return
        with process_guard(self.db_path, self.busy_timeout):
            con = connect(self.db_path, read_only=read_only, timeout=self.busy_timeout, secret=self.secret())
            try:
                yield con
            finally:
                try:
                    db.close(con)
                except duckdb.Error as exc:  # after a commit the data is safe in the WAL
                    log.warning("closing %s failed: %s", self.db_path, exc)


def _write_error(exc: duckdb.Error) -> type[StoreError]:
    """``StoreFull`` when the disk was full (DuckDB rolled the write back whole), else ``StoreError``."""
    return StoreFull if "No space left on device" in str(exc) else StoreError


@contextlib.contextmanager
def _wrap_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except duckdb.Error as exc:
        raise StoreError(f"Reading the lifelog database {path} failed: {exc}") from exc
