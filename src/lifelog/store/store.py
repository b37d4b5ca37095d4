"""``Store``: the one entry point other layers use to read and write the timeline."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import duckdb

from lifelog.errors import StoreError
from lifelog.store import migrations
from lifelog.store.db import connect, connect_memory, create_private_db, process_guard
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

    def migrate(self) -> list[int]:
        """Apply pending migrations; create the file (0600) and its folder if missing."""
        create_private_db(self.db_path)
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
            con.begin()
            try:
                yield Writer(con, self.db_path)
            except BaseException as exc:
                con.rollback()
                if isinstance(exc, duckdb.Error):
                    raise StoreError(f"Writing to the lifelog database {self.db_path} failed: {exc}") from exc
                raise
            try:
                con.commit()
            except duckdb.Error as exc:
                raise StoreError(f"Committing to the lifelog database {self.db_path} failed: {exc}") from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Reader]:
        """A read-only view; on a home with no database yet, an empty in-memory one."""
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
        with process_guard(self.db_path, self.busy_timeout):
            con = connect(self.db_path, read_only=read_only, timeout=self.busy_timeout)
            try:
                yield con
            finally:
                try:
                    con.close()
                except duckdb.Error as exc:  # after a commit the data is safe in the WAL
                    log.warning("closing %s failed: %s", self.db_path, exc)


@contextlib.contextmanager
def _wrap_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except duckdb.Error as exc:
        raise StoreError(f"Reading the lifelog database {path} failed: {exc}") from exc
