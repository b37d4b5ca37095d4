"""Migration 4 on a database as lifelog left it at schema version 3: the fts extension's
index dropped, every existing span and transcript indexed once, new writes indexed as stored."""

from __future__ import annotations

import duckdb
import pytest

from lifelog.store import Store, migrations, search_index
from lifelog.store.db import create_private_db, load_fts
from tests.store.search_reference import ranking
from tests.store.timeline_helpers import at, observe, said


def _have_fts() -> bool:
    """Whether the fts extension lifelog 3 used is still installed (duckdb-ext-fts)."""
    con = duckdb.connect()
    try:
        load_fts(con)
        return True
    except (ImportError, duckdb.Error):
        return False
    finally:
        con.close()


HAVE_FTS = _have_fts()

OLD_SPANS = ["Invoice 4821 overdue", "budget review deck", "明日の会議室の予約", "invoice paid", "会議 notes"]
OLD_HEARD = ["the budget review is on friday", "会議室は三階です"]


def freeze_at_version_3(db_path) -> None:
    """Schema version 3 with spans and transcripts, and the fts index lifelog 3 built."""
    db_path.parent.mkdir(parents=True)
    assert create_private_db(db_path)
    con = duckdb.connect(str(db_path))
    try:
        assert migrations.apply(con, {v: migrations.MIGRATIONS[v] for v in (1, 2, 3)}) == [1, 2, 3]
        for i, text in enumerate(OLD_SPANS):
            con.execute(
                "INSERT INTO text_spans (t_start, t_end, monitor, app, text, open)"
                " VALUES (?, ?, 0, 'Firefox', ?, false)",
                [at(i), at(i + 1), text],
            )
        for i, text in enumerate(OLD_HEARD):
            con.execute(
                "INSERT INTO transcripts (t_start, t_end, source, engine, text)"
                " VALUES (?, ?, 'mic', 'faster-whisper', ?)",
                [at(10 + i), at(11 + i), text],
            )
        for key in ("fts_max_span_id", "fts_max_transcript_id"):
            con.execute("INSERT INTO meta VALUES (?, '99')", [key])
        if HAVE_FTS:  # lifelog 3 depended on it; later versions may not install it
            load_fts(con)
            for table in ("text_spans", "transcripts"):
                con.execute(f"PRAGMA create_fts_index('{table}', 'id', 'text', overwrite=1)")
    finally:
        con.close()


def schemas_and_meta(db_path) -> tuple[set[str], set[str]]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
        keys = {r[0] for r in con.execute("SELECT key FROM meta").fetchall()}
        return schemas, keys
    finally:
        con.close()


@pytest.mark.parametrize("chunk", [search_index.BACKFILL_CHUNK, 2])
def test_version_3_database_is_indexed_once_and_its_fts_index_dropped(db_path, monkeypatch, chunk):
    monkeypatch.setattr(search_index, "BACKFILL_CHUNK", chunk)
    monkeypatch.setattr(search_index, "TAIL_MAX", 8)  # the backfill also makes sorted runs
    freeze_at_version_3(db_path)
    assert "fts_main_text_spans" in schemas_and_meta(db_path)[0] or not HAVE_FTS
    store = Store(db_path)
    assert store.migrate() == list(range(4, migrations.latest_version() + 1))  # 4 and those after it
    schemas, keys = schemas_and_meta(db_path)
    assert not {s for s in schemas if s.startswith("fts_main_")}
    assert not {"fts_max_span_id", "fts_max_transcript_id"} & keys
    with store.read() as r:
        counters = r.stats().counters
        assert (counters["unindexed_spans"], counters["unindexed_transcripts"]) == (0, 0)
        rows = {s.id: (s.text, s.t_start) for s in r.spans_between(None, None)}
        for query in ("invoice", "budget review", "会議室", "会議 notes"):
            seen = [(h.span.id, round(h.score, 6)) for h in r.search(query, kinds=("seen",))]
            assert seen == [(i, round(s, 6)) for _, i, s in ranking(rows, query, 20)], query
        assert [h.transcript.text for h in r.search("会議室", kinds=("heard",))] == ["会議室は三階です"]
    with store.write() as w:  # new rows are indexed as stored, ids keep counting
        observe(w, at(100), ["invoice sent again"])
        w.add_transcripts([said(101, 102, "invoice heard")])
    with store.read() as r:
        hits = r.search("invoice", limit=10)
        assert {(h.kind, (h.span or h.transcript).text) for h in hits} >= {
            ("seen", "invoice sent again"),
            ("heard", "invoice heard"),
            ("seen", "Invoice 4821 overdue"),
        }
        assert max(h.span.id for h in hits if h.span) == len(OLD_SPANS) + 1


def test_an_empty_version_3_database_migrates(db_path):
    db_path.parent.mkdir(parents=True)
    assert create_private_db(db_path)
    con = duckdb.connect(str(db_path))
    migrations.apply(con, {v: migrations.MIGRATIONS[v] for v in (1, 2, 3)})
    con.close()
    store = Store(db_path)
    assert store.migrate() == list(range(4, migrations.latest_version() + 1))  # 4 and those after it
    with store.read() as r:
        assert r.search("anything") == []
