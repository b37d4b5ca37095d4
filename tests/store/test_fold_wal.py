"""The owner folds its WAL into the file when asked (``Store.fold_wal``), in a hold of the write
lock of its own: a long import asks often, so DuckDB's own fold at 16 MB never lands inside one
of its writes. Real DuckDB files."""

from __future__ import annotations

from datetime import datetime

from lifelog.store import Store
from tests.store.timeline_helpers import observe


def _spans(store: Store) -> int:
    with store.read() as r:
        return r._con.execute("SELECT count(*) FROM text_spans").fetchone()[0]


def test_the_owner_folds_its_wal_only_past_the_limit_and_keeps_every_row(db_path):
    store = Store.open_owner(db_path)
    wal = db_path.with_name(db_path.name + ".wal")
    try:
        with store.write() as w:
            observe(w, datetime(2026, 3, 2, 9), [f"line {i} of the screen" for i in range(200)])
        size = wal.stat().st_size
        assert size > 0
        assert not store.fold_wal(size + 1)
        assert wal.stat().st_size == size
        assert store.fold_wal(size)
        assert not wal.exists() or wal.stat().st_size < size
        assert _spans(store) == 200
    finally:
        store.close()
    assert _spans(Store(db_path)) == 200


def test_a_short_lived_store_leaves_its_wal_to_duckdb(store):
    with store.write() as w:
        observe(w, datetime(2026, 3, 2, 9), ["one line"])
    assert not store.fold_wal(0)
