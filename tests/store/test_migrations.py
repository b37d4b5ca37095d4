"""Schema migrations: full schema on an empty file, idempotence, rollback of a failed step."""

from __future__ import annotations

import os
import stat

import duckdb
import pytest

from lifelog.errors import StoreError
from lifelog.store import Store, migrations
from lifelog.store.db import create_private_db

EXPECTED_SCHEMA = {
    "frames": [
        ("id", "BIGINT"), ("ts", "TIMESTAMP"), ("monitor", "INTEGER"), ("width", "INTEGER"),
        ("height", "INTEGER"), ("app", "VARCHAR"), ("window", "VARCHAR"), ("image_ref", "VARCHAR"),
        ("region_left", "INTEGER"), ("region_top", "INTEGER"), ("region_right", "INTEGER"),
        ("region_bottom", "INTEGER"), ("keyframe", "BOOLEAN"), ("ocr_ms", "DOUBLE"),
        ("ocr_failed", "BOOLEAN"),
    ],
    "text_spans": [
        ("id", "BIGINT"), ("t_start", "TIMESTAMP"), ("t_end", "TIMESTAMP"), ("monitor", "INTEGER"),
        ("app", "VARCHAR"), ("window", "VARCHAR"), ("text", "VARCHAR"), ("top", "INTEGER"),
        ("left", "INTEGER"), ("frame_id", "BIGINT"), ("open", "BOOLEAN"),
    ],
    "events": [("id", "BIGINT"), ("ts", "TIMESTAMP"), ("kind", "VARCHAR"), ("detail", "VARCHAR")],
    "recordings": [
        ("id", "VARCHAR"), ("started", "TIMESTAMP"), ("ended", "TIMESTAMP"), ("fps", "DOUBLE"),
        ("frames_seen", "BIGINT"), ("frames_kept", "BIGINT"), ("frames_skipped", "BIGINT"),
        ("ocr_failures", "BIGINT"),
    ],
    "meta": [("key", "VARCHAR"), ("value", "VARCHAR")],
    "schema_migrations": [("version", "INTEGER"), ("name", "VARCHAR"), ("applied_at", "TIMESTAMP")],
}


def schema(path) -> dict[str, list[tuple[str, str]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        tables.setdefault(table, []).append((column, dtype))
    return tables


def versions(path) -> list[tuple[int, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    finally:
        con.close()


def test_migrate_empty_database_gives_full_schema(db_path):
    assert Store(db_path).migrate() == [1]
    assert schema(db_path) == EXPECTED_SCHEMA
    con = duckdb.connect(str(db_path), read_only=True)
    sequences = {r[0] for r in con.execute("SELECT sequence_name FROM duckdb_sequences()").fetchall()}
    con.close()
    assert sequences == {"frames_id_seq", "text_spans_id_seq", "events_id_seq"}
    assert versions(db_path) == [(1, "m001_initial")]


def test_migrate_twice_is_a_no_op(db_path):
    store = Store(db_path)
    store.migrate()
    assert store.migrate() == []
    assert Store(db_path).migrate() == []
    assert versions(db_path) == [(1, "m001_initial")]
    assert schema(db_path) == EXPECTED_SCHEMA


def test_failed_migration_rolls_back_its_changes_and_record(db_path):
    Store(db_path).migrate()

    def m002_half_done(con):
        con.execute("CREATE TABLE half_done (x INTEGER)")
        con.execute("INSERT INTO half_done VALUES (1)")
        raise RuntimeError("disk on fire")

    con = duckdb.connect(str(db_path))
    try:
        with pytest.raises(StoreError, match=r"migration 2 \(m002_half_done\) failed.*version 1"):
            migrations.apply(con, {**migrations.MIGRATIONS, 2: m002_half_done})
    finally:
        con.close()
    assert versions(db_path) == [(1, "m001_initial")]
    assert "half_done" not in schema(db_path)

    def m002_fixed(con):
        con.execute("CREATE TABLE half_done (x INTEGER)")

    con = duckdb.connect(str(db_path))
    try:
        assert migrations.apply(con, {**migrations.MIGRATIONS, 2: m002_fixed}) == [2]
    finally:
        con.close()
    assert versions(db_path) == [(1, "m001_initial"), (2, "m002_fixed")]


def test_database_file_is_private(db_path):
    Store(db_path).migrate()
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(db_path.parent).st_mode) == 0o700
    assert [p.name for p in db_path.parent.iterdir()] == [db_path.name]  # no temp files left


def test_read_on_a_fresh_home_returns_nothing_and_creates_nothing(db_path):
    with Store(db_path).read() as r:
        assert r.spans_between(None, None) == []
        assert r.frames_between(None, None) == []
        assert r.events_between(None, None) == []
        assert r.search("anything") == []
        assert r.recordings() == []
        assert r.stats().frames == 0
    assert not db_path.exists()


def test_read_brings_an_older_database_up_to_date(db_path):
    db_path.parent.mkdir(parents=True)
    assert create_private_db(db_path)
    con = duckdb.connect(str(db_path))
    migrations.apply(con, {})  # the bookkeeping table only: "version 0"
    con.close()
    with Store(db_path).read() as r:
        assert r.spans_between(None, None) == []
    assert versions(db_path) == [(1, "m001_initial")]


def test_a_newer_database_is_refused_with_advice(db_path):
    Store(db_path).migrate()
    con = duckdb.connect(str(db_path))
    con.execute("INSERT INTO schema_migrations VALUES (99, 'm099_future', now()::timestamp)")
    con.close()
    with pytest.raises(StoreError, match="newer than this lifelog knows.*Upgrade lifelog"):
        with Store(db_path).read():
            pass
