"""``lifelog encrypt`` / ``decrypt``: convert a timeline in place without losing a row.

The caller holds the owner lock (no owner runs, none starts); the database copy holds the
file read-write, so short-lived readers and writers wait for it like for any writer.

Order of steps, chosen so that a kill -9 anywhere leaves a timeline that opens whole (every
state below reads with the passphrase) and a rerun of the same command finishes the job:

encrypt
  1. ``lifelog.key`` is written (a new random data key wrapped by the passphrase; an existing
     one, from an earlier interrupted run, is unwrapped instead). A key file beside a
     plaintext database is harmless: the database header, not the key file, says how to
     open it (``crypt.is_encrypted_file``).
  2. the database is copied (``COPY FROM DATABASE``: every table, sequence, view and the
     migrations record) into ``.lifelog.duckdb.convert``, encrypted; the copy is checked
     table by table and sequence by sequence, detached (checkpointed) and fsynced;
  3. the copy is renamed over the database: the commit point for its rows;
  4. every frame and audio file is sealed, each by its own atomic rename (a reader opens
     sealed and plaintext files alike).

decrypt is the mirror: files unsealed first, then the plaintext copy swapped in, and the
key file removed last, so nothing encrypted is ever left without its key.

A test can stop the process right after a step (``_DIE_AT_ENV``, see :func:`_step`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from lifelog.errors import StoreError
from lifelog.paths import Paths, fsync_path
from lifelog.store import crypt, keys, sealed
from lifelog.store.db import create_private_db
from lifelog.store.rewrite import step, wal_path
from lifelog.store.sql import one

_DIE_AT_ENV = "LIFELOG_TEST_CONVERT_DIE_AT"  # tests only: os._exit(9) right after the named step
FILE_SUFFIXES = {".webp", ".lfr", ".ogg", ".png", ".wav"}  # frames (old, compact), audio, spool


def _step(name: str) -> None:
    step(name, _DIE_AT_ENV)


def temp_path(db_path: Path) -> Path:
    return db_path.with_name(f".{db_path.name}.convert")


def _remove_leftovers(db_path: Path) -> None:
    for p in (temp_path(db_path), wal_path(temp_path(db_path))):
        p.unlink(missing_ok=True)


def encrypt(paths: Paths, passphrase: str, progress: Callable[[str], None] = lambda _m: None) -> dict:
    """Encrypt the timeline in ``paths`` (or finish an interrupted encrypt); a report dict."""
    started = time.monotonic()
    created = not keys.is_encrypted(paths.data)
    if created:
        key = os.urandom(32)
        record = keys.wrap(key, passphrase)
    else:
        key = keys.unwrap(keys.read_record(paths.data), passphrase, keys.key_path(paths.data))
    report: dict[str, Any] = {"rows": {}, "database": "unchanged", "files": 0, "key": "created" if created else "kept"}
    try:
        if created:
            keys.write_record(paths.data, record)
        _step("key")
        keys.remember(paths.data, key)
        if paths.db.exists() and not crypt.is_encrypted_file(paths.db):
            progress("copying the database into an encrypted file")
            report["rows"] = _convert_db(paths.db, None, keys.db_secret(key))
            report["database"] = "encrypted"
    except BaseException:
        if created:  # nothing is encrypted yet: leave no key behind
            keys.key_path(paths.data).unlink(missing_ok=True)
            keys.remember(paths.data, None)
        raise
    progress("sealing frame and audio files")
    report["files"] = _convert_files(paths, keys.file_key(key), to_sealed=True)
    report["seconds"] = round(time.monotonic() - started, 2)
    return report


def decrypt(paths: Paths, passphrase: str, progress: Callable[[str], None] = lambda _m: None) -> dict:
    """Decrypt the timeline in ``paths`` (or finish an interrupted decrypt); a report dict."""
    started = time.monotonic()
    if not keys.is_encrypted(paths.data):
        if crypt.is_encrypted_file(paths.db):
            raise StoreError(
                f"The lifelog database {paths.db} is encrypted but {keys.key_path(paths.data)} "
                "is missing: restore the key file from a backup."
            )
        return {"rows": {}, "database": "unchanged", "files": 0, "seconds": 0.0}
    key = keys.unwrap(keys.read_record(paths.data), passphrase, keys.key_path(paths.data))
    keys.remember(paths.data, key)
    progress("opening sealed frame and audio files")
    report: dict[str, Any] = {"rows": {}, "database": "unchanged"}
    report["files"] = _convert_files(paths, keys.file_key(key), to_sealed=False)
    if crypt.is_encrypted_file(paths.db):
        progress("copying the database into a plaintext file")
        report["rows"] = _convert_db(paths.db, keys.db_secret(key), None)
        report["database"] = "decrypted"
    keys.key_path(paths.data).unlink()
    fsync_path(paths.data)
    keys.remember(paths.data, None)
    report["seconds"] = round(time.monotonic() - started, 2)
    return report


def _convert_db(db_path: Path, src_secret: str | None, dst_secret: str | None) -> dict[str, int]:
    """Copy ``db_path`` into a file with the other encryption, check it, swap it in."""
    _remove_leftovers(db_path)
    tmp = temp_path(db_path)
    create_private_db(tmp, dst_secret)
    con = crypt.host()
    try:
        crypt.attach_as(con, db_path, "src", src_secret)
        con.execute("CHECKPOINT src")  # a WAL left by a crash goes into the file being copied
        crypt.attach_as(con, tmp, "dst", dst_secret)
        con.execute("COPY FROM DATABASE src TO dst")
        rows = _check_copy(con, db_path)
        _step("copy")
        con.execute("DETACH dst")  # checkpoints the copy into its file
        con.execute("DETACH src")
    except duckdb.Error as exc:
        con.close()
        _remove_leftovers(db_path)
        raise StoreError(
            crypt.scrub(
                crypt.scrub(
                    f"Converting the lifelog database {db_path} failed, nothing was changed: {exc}", src_secret
                ),
                dst_secret,
            )
        ) from None
    con.close()
    if wal_path(tmp).exists() or wal_path(db_path).exists():
        _remove_leftovers(db_path)
        raise StoreError(
            f"Converting the lifelog database {db_path} left a WAL behind; nothing was changed. Run the command again."
        )
    fsync_path(tmp)
    os.replace(tmp, db_path)
    fsync_path(db_path.parent)
    _step("swap")
    return rows


def _check_copy(con: duckdb.DuckDBPyConnection, db_path: Path) -> dict[str, int]:
    """Row counts per table, equal in both; sequences at the same place; the same views."""
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' ORDER BY table_name"
        ).fetchall()
    ]
    rows = {}
    for table in tables:
        counts = [one(con.execute(f'SELECT count(*) FROM {db}.main."{table}"'))[0] for db in ("src", "dst")]
        if counts[0] != counts[1]:
            raise duckdb.Error(f"table {table} has {counts[0]} rows but its copy {counts[1]}")
        rows[table] = counts[0]
    for what, sql in (
        (
            "sequences",
            "SELECT sequence_name, start_value, last_value FROM duckdb_sequences() WHERE database_name = ? ORDER BY 1",
        ),
        ("views", "SELECT view_name, sql FROM duckdb_views() WHERE database_name = ? AND NOT internal ORDER BY 1"),
        ("tables", "SELECT table_name, column_count FROM duckdb_tables() WHERE database_name = ? ORDER BY 1"),
    ):
        if con.execute(sql, ["src"]).fetchall() != con.execute(sql, ["dst"]).fetchall():
            raise duckdb.Error(f"the {what} of the copy differ from the original's")
    return rows


def stored_files(paths: Paths) -> Iterator[Path]:
    """Every frame and audio file of the timeline and its spool (not temporary ones)."""
    for root in (paths.frames, paths.audio, paths.spool):
        if root.exists():
            for p in sorted(root.rglob("*")):
                if p.suffix in FILE_SUFFIXES and not p.name.startswith(".") and p.is_file():
                    yield p


def _convert_files(paths: Paths, file_key: bytes, *, to_sealed: bool) -> int:
    n = 0
    for path in stored_files(paths):
        if sealed.convert_file(path, file_key, to_sealed=to_sealed):
            n += 1
            _step("file")
    return n
