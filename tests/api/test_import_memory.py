"""Digests and lessons imported into an owner's store, slice by slice (``import_slices.py``): a
failure after them takes the lessons back by the journal and the digests with their hours'
lines, and a rerun brings it all in. Real DuckDB files."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifelog.api.import_slices import SliceSize, publish
from lifelog.api.timeline_file import _slices, export_jsonl, import_jsonl
from lifelog.replay.digest import catch_up
from lifelog.store import Store
from lifelog.tokenize_media.redact import default
from tests.support.deploys import deploys


def _exported(tmp_path: Path) -> Path:
    deploys(tmp_path / "a")
    store = Store(tmp_path / "a" / "lifelog.duckdb")
    with store.write() as w:
        w.summarise_hours()  # (as the owner and `lifelog digest` do first)
    assert catch_up(store).hours == 4
    with store.write() as w:
        w.add_lesson("Raise the lock timeout before a long migration.")
        w.add_lesson("Never paste the key sk-live-0123456789abcdefghijklmnop into a chat.")
    out = tmp_path / "a.jsonl"
    export = export_jsonl(store, None, None)
    try:
        out.write_bytes(b"".join(export.chunks))
    finally:
        export.close()
    return out


def _kept(store: Store) -> tuple[int, int, int]:
    with store.read() as r:
        return len(r.spans_between(None, None)), len(r.digests(None, None)), len(r.lessons())


@pytest.fixture
def owner_store(tmp_path):
    store = Store.open_owner(tmp_path / "b" / "lifelog.duckdb")
    yield store
    store.close()


def test_a_failure_after_the_lessons_takes_all_back_and_a_rerun_brings_all_in(owner_store, tmp_path):
    src = _exported(tmp_path)
    size = SliceSize()

    def failing_at_the_end():
        yield from _slices(src, src.name, default(), size)
        raise OSError("Input/output error reading the upload")

    with pytest.raises(OSError):
        publish(owner_store, failing_at_the_end(), size)
    assert _kept(owner_store) == (0, 0, 0)
    assert not list(owner_store.db_path.parent.glob(".import-*"))

    report = import_jsonl(owner_store, src, src.name)
    assert report["inserted"] == {"seen": 9, "heard": 0, "event": 0, "digest": 7, "lesson": 2}
    assert _kept(owner_store) == (9, 7, 2)
    with owner_store.read() as r:
        texts = [x["text"] for x in r.lessons()]
    assert "sk-live-0123456789abcdefghijklmnop" not in " ".join(texts)  # redacted on the way in, as lines are
    assert sum(import_jsonl(owner_store, src, src.name)["inserted"].values()) == 0
