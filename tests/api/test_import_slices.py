"""A JSONL import into an owner's store goes in short slices that other writes interleave with,
and is taken back whole when it fails or its process dies: real DuckDB files, real threads,
a real process killed with SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from lifelog.api import jsonl
from lifelog.api.import_slices import SliceSize, finish_pending, publish
from lifelog.api.timeline_file import _slices, import_jsonl
from lifelog.store import Store
from lifelog.tokenize_media.redact import default
from tests.store.timeline_helpers import observe
from tests.support.jsonl_files import NOW, write_export
from tests.support.wait import wait_for


def _count(store: Store) -> tuple[int, int]:
    """Imported spans and transcripts; the search index must count exactly the rows stored."""
    with store.read() as r:
        for table in ("text_spans", "transcripts"):
            docs, rows = r._con.execute(
                f"SELECT (SELECT docs FROM search_stats WHERE corpus = '{table}'), (SELECT count(*) FROM {table})"
            ).fetchone()
            assert docs == rows, (table, docs, rows)
        return r._con.execute(
            "SELECT (SELECT count(*) FROM text_spans WHERE text LIKE 'imported%'),"
            " (SELECT count(*) FROM transcripts WHERE text LIKE 'imported%')"
        ).fetchone()


@pytest.fixture
def owner_store(tmp_path):
    store = Store.open_owner(tmp_path / "home" / "lifelog.duckdb")
    yield store
    store.close()


def test_a_writer_commits_between_the_slices_of_an_import(owner_store, tmp_path):
    """A recorder-like writer (a frame and its lines per transaction) keeps committing while
    the import runs, and some of its transactions see the import partly in: with one long
    transaction it would see all of the file or none."""
    src = tmp_path / "day.jsonl"
    total = write_export(src, 6000)["seen"]
    seen_in_writes: list[int] = []
    waits: list[float] = []
    done = threading.Event()

    def recorder() -> None:
        i = 0
        while not done.is_set():
            asked = time.monotonic()
            with owner_store.write() as w:
                waits.append(time.monotonic() - asked)
                observe(w, NOW + timedelta(seconds=i / 2), [f"recorded line {i}", "status bar"])
                seen_in_writes.append(
                    w._con.execute("SELECT count(*) FROM text_spans WHERE text LIKE 'imported%'").fetchone()[0]
                )
            i += 1
            time.sleep(0.01)

    writer = threading.Thread(target=recorder)
    writer.start()
    try:
        report = import_jsonl(owner_store, src, "day.jsonl")
    finally:
        done.set()
        writer.join()
    assert report["inserted"]["seen"] == total and report["slices"] >= 3
    partly = [n for n in seen_in_writes if 0 < n < total]
    assert partly, f"no write ran between slices ({len(seen_in_writes)} writes, longest wait {max(waits):.2f} s)"
    assert _count(owner_store) == (total, 60)
    assert not list(owner_store.db_path.parent.glob(".import-*"))


def test_a_failure_mid_way_takes_back_every_slice_and_a_rerun_adds_it_all(owner_store, tmp_path):
    src = tmp_path / "day.jsonl"
    counts = write_export(src, 5000)
    with owner_store.write() as w:  # a part of the file is there already: taking back keeps it
        w.merge_rows("seen", [row for _, kind, row in jsonl.read_rows(src, "day.jsonl") if kind == "seen"][:300])
    before = _count(owner_store)
    size = SliceSize()

    def failing_after_two():
        for n, piece in enumerate(_slices(src, "day.jsonl", default(), size)):
            if n == 2:
                raise OSError("Input/output error reading the upload")
            yield piece

    with pytest.raises(OSError):
        publish(owner_store, failing_after_two(), size)
    assert size.slices == 2 and before == (300, 0)
    assert _count(owner_store) == before  # the rows and their postings of both slices are gone
    with owner_store.read() as r:
        assert "imported line 1000 of the file" not in {h.span.text for h in r.search("imported line 1000")}
    assert not list(owner_store.db_path.parent.glob(".import-*"))

    report = import_jsonl(owner_store, src, "day.jsonl")
    assert report["inserted"] == {**counts, "seen": counts["seen"] - 300}
    assert sum(import_jsonl(owner_store, src, "day.jsonl")["inserted"].values()) == 0
    assert _count(owner_store) == (5000, 50)


_CHILD = """
import sys
from pathlib import Path
from lifelog.store import Store
from lifelog.api.timeline_file import import_jsonl
store = Store.open_owner(Path(sys.argv[1]))
import_jsonl(store, Path(sys.argv[2]), "big.jsonl")
print("finished")
"""


def test_an_import_killed_mid_way_is_taken_back_at_the_next_owner_start(tmp_path):
    db = tmp_path / "home" / "lifelog.duckdb"
    src = tmp_path / "big.jsonl"
    write_export(src, 12000)
    store = Store.open_owner(db)
    with store.write() as w:
        observe(w, NOW, ["recorded before the import"])
    store.close()
    upload = db.with_name(".import-left-by-a-crash.jsonl")
    upload.write_text("{}\n")
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(db), str(src)], stdout=subprocess.PIPE)
    try:
        _wait_for_a_committed_slice(db.parent, child)
    finally:
        child.send_signal(signal.SIGKILL)
        out = child.communicate()[0]
    assert b"finished" not in out

    store = Store.open_owner(db)
    try:
        assert 0 < _count(store)[0] < 12000  # the crash left slices in
        assert finish_pending(store) > 0
        assert _count(store) == (0, 0)  # the line recorded before stays, indexed (checked by _count)
        assert not list(db.parent.glob(".import-*"))
        assert import_jsonl(store, src, "big.jsonl")["inserted"]["seen"] == 12000
    finally:
        store.close()


def _wait_for_a_committed_slice(folder: Path, child: subprocess.Popen, timeout: float = 120) -> None:
    """Until the child's journal notes two slices (the first has committed)."""
    wait_for(
        lambda: any(j.read_text().count("\n") >= 2 for j in folder.glob(".import-*.undo")),
        timeout,
        "the import to commit a slice",
        interval=0.02,
        process=child,
    )


def test_an_import_moves_the_search_tail_into_runs_between_its_slices(owner_store, tmp_path, monkeypatch):
    """The tail is moved on its own before a slice would bring it to IMPORT_TAIL_MAX (never a
    whole tail's move on top of a slice), and search reads every imported line across the runs."""
    from lifelog.api import import_slices

    monkeypatch.setattr(import_slices, "IMPORT_TAIL_MAX", 1)  # moved before every slice
    monkeypatch.setattr(import_slices, "FIRST_SLICE_ROWS", 1_000)
    monkeypatch.setattr(import_slices, "MAX_SLICE_ROWS", 1_000)
    src = tmp_path / "day.jsonl"
    total = write_export(src, 6000)["seen"]
    import_jsonl(owner_store, src, "day.jsonl")
    assert _count(owner_store) == (total, 60)
    with owner_store.read() as r:
        tail, runs = r._con.execute(
            "SELECT (SELECT count(*) FROM text_spans_postings_tail), (SELECT count(*) FROM text_spans_postings)"
        ).fetchone()
        assert 0 < tail < runs / 3  # the tail holds the last slice's postings only
        for n in (7, 2_500, 5_993):  # early, middle and late lines: in different runs or the tail
            assert [h.span.text for h in r.search(str(n)) if h.span] == [f"imported line {n} of the file"]
