"""Schema migrations: full schema on an empty file, idempotence, rollback of a failed step,
and a database frozen at an older version brought up to date with its data kept."""

from __future__ import annotations

import os
import stat

import duckdb
import pytest

from lifelog.errors import StoreError
from lifelog.models import Transcript
from lifelog.store import Store, migrations
from lifelog.store.db import create_private_db
from tests.store.timeline_helpers import at, line
from tests.support.rows import audio_chunks_between, transcripts_between

EXPECTED_SCHEMA = {
    "frames": [
        ("id", "BIGINT"),
        ("ts", "TIMESTAMP"),
        ("monitor", "INTEGER"),
        ("width", "INTEGER"),
        ("height", "INTEGER"),
        ("app", "VARCHAR"),
        ("window", "VARCHAR"),
        ("image_ref", "VARCHAR"),
        ("region_left", "INTEGER"),
        ("region_top", "INTEGER"),
        ("region_right", "INTEGER"),
        ("region_bottom", "INTEGER"),
        ("keyframe", "BOOLEAN"),
        ("ocr_ms", "DOUBLE"),
        ("ocr_failed", "BOOLEAN"),
        ("source_key", "VARCHAR"),
    ],
    "text_spans": [
        ("id", "BIGINT"),
        ("t_start", "TIMESTAMP"),
        ("t_end", "TIMESTAMP"),
        ("monitor", "INTEGER"),
        ("app", "VARCHAR"),
        ("window", "VARCHAR"),
        ("text", "VARCHAR"),
        ("top", "INTEGER"),
        ("left", "INTEGER"),
        ("frame_id", "BIGINT"),
        ("open", "BOOLEAN"),
        ("tokens", "INTEGER"),
        ("ord", "INTEGER"),
        ("lead", "VARCHAR"),
    ],
    "events": [("id", "BIGINT"), ("ts", "TIMESTAMP"), ("kind", "VARCHAR"), ("detail", "VARCHAR")],
    "recordings": [
        ("id", "VARCHAR"),
        ("started", "TIMESTAMP"),
        ("ended", "TIMESTAMP"),
        ("fps", "DOUBLE"),
        ("frames_seen", "BIGINT"),
        ("frames_kept", "BIGINT"),
        ("frames_skipped", "BIGINT"),
        ("ocr_failures", "BIGINT"),
        ("audio_chunks", "BIGINT"),
        ("audio_voiced_ms", "BIGINT"),
        ("audio_silent_ms", "BIGINT"),
    ],
    "meta": [("key", "VARCHAR"), ("value", "VARCHAR")],
    "schema_migrations": [("version", "INTEGER"), ("name", "VARCHAR"), ("applied_at", "TIMESTAMP")],
    "audio_chunks": [
        ("id", "BIGINT"),
        ("t_start", "TIMESTAMP"),
        ("t_end", "TIMESTAMP"),
        ("source", "VARCHAR"),
        ("audio_ref", "VARCHAR"),
        ("voiced_s", "DOUBLE"),
        ("source_key", "VARCHAR"),
    ],
    "transcripts": [
        ("id", "BIGINT"),
        ("t_start", "TIMESTAMP"),
        ("t_end", "TIMESTAMP"),
        ("source", "VARCHAR"),
        ("engine", "VARCHAR"),
        ("text", "VARCHAR"),
        ("tokens", "INTEGER"),
        ("chunk_id", "BIGINT"),
        ("language", "VARCHAR"),
        ("speaker", "BIGINT"),
    ],
    "voices": [
        ("id", "BIGINT"),
        ("name", "VARCHAR"),
        ("centroid", "FLOAT[192]"),
        ("seconds", "DOUBLE"),
        ("first_heard", "TIMESTAMP"),
        ("last_heard", "TIMESTAMP"),
    ],
    "digests": [
        ("level", "VARCHAR"),
        ("start", "TIMESTAMP"),
        ("end", "TIMESTAMP"),
        ("text", "VARCHAR"),
        ("sources", "VARCHAR"),
        ("model", "VARCHAR"),
        ("tokens", "INTEGER"),
        ("basis", "VARCHAR"),
        ("made_at", "TIMESTAMP"),
    ],
    "lessons": [
        ("id", "BIGINT"),
        ("text", "VARCHAR"),
        ("sources", "VARCHAR"),
        ("model", "VARCHAR"),
        ("created", "TIMESTAMP"),
        ("updated", "TIMESTAMP"),
    ],
    "chunk_vectors": [
        ("chunk_start", "TIMESTAMP"),
        ("kind", "VARCHAR"),
        ("monitor", "INTEGER"),
        ("app", "VARCHAR"),
        ("window", "VARCHAR"),
        ("source", "VARCHAR"),
        ("model", "VARCHAR"),
        ("n_lines", "INTEGER"),
        ("last_id", "BIGINT"),
        ("scale", "FLOAT"),
        ("vector", "TINYINT[384]"),
        ("part", "INTEGER"),
        ("line_ids", "BIGINT[]"),
    ],
    "hour_seen": [
        ("hour", "TIMESTAMP"),
        ("app", "VARCHAR"),
        ("window", "VARCHAR"),
        ("seconds", "DOUBLE"),
        ("lines", "BIGINT"),
        ("first_line", "VARCHAR"),
    ],
    "hour_heard": [("hour", "TIMESTAMP"), ("source", "VARCHAR"), ("minutes", "BIGINT")],
    "hour_totals": [
        ("hour", "TIMESTAMP"),
        ("kind", "VARCHAR"),
        ("lines", "BIGINT"),
        ("tokens", "BIGINT"),
        ("first", "TIMESTAMP"),
        ("last", "TIMESTAMP"),
    ],
    "search_stats": [("corpus", "VARCHAR"), ("docs", "BIGINT"), ("total_len", "BIGINT"), ("max_id", "BIGINT")],
    "search_apps": [("id", "INTEGER"), ("app", "VARCHAR")],
    **{
        table: [
            ("term", "BIGINT"),
            ("doc", "BIGINT"),
            ("tf", "USMALLINT"),
            ("len", "USMALLINT"),
            ("t_start", "TIMESTAMP"),
            ("app", "INTEGER"),
        ]
        for table in (
            "text_spans_postings",
            "text_spans_postings_tail",
            "transcripts_postings",
            "transcripts_postings_tail",
        )
    },
}
SEQUENCES = {
    "frames_id_seq",
    "text_spans_id_seq",
    "events_id_seq",
    "audio_chunks_id_seq",
    "transcripts_id_seq",
    "voices_id_seq",
    "lessons_id_seq",
}
ALL_VERSIONS = [
    (1, "m001_initial"),
    (2, "m002_audio"),
    (3, "m003_source_keys"),
    (4, "m004_search_postings"),
    (5, "m005_span_tokens"),
    (6, "m006_chunk_vectors"),
    (7, "m007_transcript_language"),
    (8, "m008_span_layout"),
    (9, "m009_hour_summaries"),
    (10, "m010_search_chinese_folded"),
    (11, "m011_voices"),
    (12, "m012_digests"),
    (13, "m013_lessons"),
    (14, "m014_chunk_vector_parts"),
]


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


def sequences(path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT sequence_name FROM duckdb_sequences()").fetchall()}
    finally:
        con.close()


def no_indexes(path) -> bool:
    """No ART index anywhere (they leak file blocks per write cycle; see store/db.py)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        indexes = con.execute("SELECT count(*) FROM duckdb_indexes()").fetchone()[0]
        constraints = con.execute(
            "SELECT count(*) FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')"
        ).fetchone()[0]
        return indexes == 0 and constraints == 0
    finally:
        con.close()


def versions(path) -> list[tuple[int, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    finally:
        con.close()


def test_migrate_empty_database_gives_full_schema(db_path):
    assert Store(db_path).migrate() == [v for v, _ in ALL_VERSIONS]
    assert schema(db_path) == EXPECTED_SCHEMA
    assert sequences(db_path) == SEQUENCES
    assert versions(db_path) == ALL_VERSIONS
    assert no_indexes(db_path)


def test_migrate_twice_is_a_no_op(db_path):
    store = Store(db_path)
    store.migrate()
    assert store.migrate() == []
    assert Store(db_path).migrate() == []
    assert versions(db_path) == ALL_VERSIONS
    assert schema(db_path) == EXPECTED_SCHEMA


def test_failed_migration_rolls_back_its_changes_and_record(db_path):
    Store(db_path).migrate()
    latest = migrations.latest_version()
    nxt = latest + 1

    def m_half_done(con):
        con.execute("CREATE TABLE half_done (x INTEGER)")
        con.execute("INSERT INTO half_done VALUES (1)")
        raise RuntimeError("disk on fire")

    con = duckdb.connect(str(db_path))
    try:
        with pytest.raises(StoreError, match=rf"migration {nxt} \(m_half_done\) failed.*version {latest}"):
            migrations.apply(con, {**migrations.MIGRATIONS, nxt: m_half_done})
    finally:
        con.close()
    assert versions(db_path) == ALL_VERSIONS
    assert "half_done" not in schema(db_path)

    def m_fixed(con):
        con.execute("CREATE TABLE half_done (x INTEGER)")

    con = duckdb.connect(str(db_path))
    try:
        assert migrations.apply(con, {**migrations.MIGRATIONS, nxt: m_fixed}) == [nxt]
    finally:
        con.close()
    assert versions(db_path) == [*ALL_VERSIONS, (nxt, "m_fixed")]


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
        assert transcripts_between(r, None, None) == []
        assert audio_chunks_between(r, None, None) == []
        assert r.recordings() == []
        assert r.stats().frames == 0 and r.stats().transcripts == 0
    assert not db_path.exists()


def test_read_brings_an_older_database_up_to_date(db_path):
    db_path.parent.mkdir(parents=True)
    assert create_private_db(db_path)
    con = duckdb.connect(str(db_path))
    migrations.apply(con, {})  # the bookkeeping table only: "version 0"
    con.close()
    with Store(db_path).read() as r:
        assert r.spans_between(None, None) == []
    assert versions(db_path) == ALL_VERSIONS


def test_a_newer_database_is_refused_with_advice(db_path):
    Store(db_path).migrate()
    con = duckdb.connect(str(db_path))
    con.execute("INSERT INTO schema_migrations VALUES (99, 'm099_future', now()::timestamp)")
    con.close()
    with pytest.raises(StoreError, match="newer than this lifelog knows.*Upgrade lifelog"):
        with Store(db_path).read():
            pass


def freeze_at_version_1(db_path) -> None:
    """A database as lifelog 1 left it: schema version 1 with a recording, a frame, a span."""
    db_path.parent.mkdir(parents=True)
    assert create_private_db(db_path)
    con = duckdb.connect(str(db_path))
    try:
        assert migrations.apply(con, {1: migrations.MIGRATIONS[1]}) == [1]
        con.execute(
            "INSERT INTO recordings (id, started, ended, fps, frames_seen, frames_kept, frames_skipped,"
            " ocr_failures) VALUES ('rec-1', ?, ?, 2.0, 10, 4, 6, 1)",
            [at(0), at(5)],
        )
        con.execute(
            "INSERT INTO frames (ts, monitor, width, height, image_ref, region_left, region_top,"
            " region_right, region_bottom, keyframe) VALUES (?, 0, 1920, 1080, 'f.jpg', 0, 0, 1920, 1080, true)",
            [at(0)],
        )
        con.execute(
            "INSERT INTO text_spans (t_start, t_end, monitor, app, text, frame_id, open)"
            " VALUES (?, ?, 0, 'Firefox', 'Invoice 4821 overdue', 1, false)",
            [at(0), at(5)],
        )
    finally:
        con.close()


def test_a_version_1_database_upgrades_to_the_latest_and_keeps_its_data(db_path):
    freeze_at_version_1(db_path)
    assert versions(db_path) == [(1, "m001_initial")]
    store = Store(db_path)
    assert store.migrate() == list(range(2, migrations.latest_version() + 1))
    assert schema(db_path) == EXPECTED_SCHEMA
    assert sequences(db_path) == SEQUENCES
    assert versions(db_path) == ALL_VERSIONS
    with store.read() as r:
        assert [(s.id, s.text, s.t_start, s.t_end) for s in r.spans_between(None, None)] == [
            (1, "Invoice 4821 overdue", at(0), at(5))
        ]
        assert [f.image_ref for f in r.frames_between(None, None)] == ["f.jpg"]
        (rec,) = r.recordings()
        assert rec == {
            "id": "rec-1",
            "started": at(0),
            "ended": at(5),
            "fps": 2.0,
            "frames_seen": 10,
            "frames_kept": 4,
            "frames_skipped": 6,
            "ocr_failures": 1,
            "audio_chunks": 0,
            "audio_voiced_ms": 0,
            "audio_silent_ms": 0,
        }
    with store.write() as w:  # the new tables and columns work, old ids keep counting
        w.upsert_recording({"id": "rec-1", "audio_chunks": 3, "audio_voiced_ms": 4200})
        w.add_transcripts([Transcript(at(1), at(3), "mic", "faster-whisper", "budget review at noon")])
        assert w.observe_lines(None, at(6), 0, "Firefox", "Inbox", [line("paid")]) == (1, 0)
    with store.read() as r:
        assert [t.text for t in transcripts_between(r, None, None)] == ["budget review at noon"]
        counters = r.stats().counters
        assert (counters["audio_chunks"], counters["audio_voiced_ms"], counters["audio_silent_ms"]) == (3, 4200, 0)
        assert r.search("budget")[0].kind == "heard"
        assert r.search("invoice")[0].span.text == "Invoice 4821 overdue"
        assert [(s.id, s.text) for s in r.spans_between(at(6), None)] == [(2, "paid")]
    con = duckdb.connect(str(db_path), read_only=True)
    try:  # migration 5 counted the old line; the writer counts new ones (o200k)
        assert con.execute("SELECT text, tokens FROM text_spans ORDER BY id").fetchall() == [
            ("Invoice 4821 overdue", 5),
            ("paid", 1),
        ]
    finally:
        con.close()


def test_transcripts_from_before_languages_read_as_unknown(db_path):
    """Migration 7 adds the language heard; rows stored before it read as "" (not known)."""
    db_path.parent.mkdir(parents=True)
    assert create_private_db(db_path)
    con = duckdb.connect(str(db_path))
    try:
        migrations.apply(con, {v: fn for v, fn in migrations.MIGRATIONS.items() if v <= 6})
        con.execute(
            "INSERT INTO transcripts (t_start, t_end, source, engine, text, tokens)"
            " VALUES (?, ?, 'mic', 'faster-whisper', 'budget review at noon', 4)",
            [at(0), at(2)],
        )
    finally:
        con.close()
    store = Store(db_path)
    assert store.migrate() == list(range(7, migrations.latest_version() + 1))
    with store.write() as w:
        w.add_transcripts([Transcript(at(3), at(5), "file", "faster-whisper", "富士康在印度工厂", language="zh")])
    with store.read() as r:
        assert [(t.text, t.language) for t in transcripts_between(r, None, None)] == [
            ("budget review at noon", ""),
            ("富士康在印度工厂", "zh"),
        ]
        assert r.search("印度工厂")[0].transcript.language == "zh"
