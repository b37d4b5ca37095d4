"""Several processes share the DuckDB file: the recorder writes while CLI commands read."""

from __future__ import annotations

import json
import statistics
import time

import pytest

from lifelog.errors import StoreBusy
from lifelog.store import Store
from tests.store.timeline_helpers import at, observe, worker


def test_reads_and_writes_from_separate_processes_all_succeed(store, db_path, tmp_path):
    stop = tmp_path / "stop"
    readers = [(worker("reader", str(db_path), str(stop), str(tmp_path / f"r{n}.json")), n) for n in range(2)]
    for proc, _ in readers:  # both read before the writer starts, so their reads overlap its writes
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    # 20 batches, one every 0.25 s: 4-8 times the recorder's pace
    writer = worker("writer", str(db_path), "20", "0.25", str(tmp_path / "w.json"))
    try:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    finally:
        stop.touch()
        for proc, _ in readers:
            proc.wait(timeout=60)
    written = json.loads((tmp_path / "w.json").read_text())
    reports = [json.loads((tmp_path / f"r{n}.json").read_text()) for _, n in readers]

    assert written["batches"] == 20
    for report in reports:
        assert report["errors"] == []
        assert report["reads"] >= 5
    with store.read() as r:
        stats = r.stats()
        assert stats.frames == written["frames"]
        assert stats.text_spans == written["new_spans"]
        assert stats.counters["events"] == written["events"]
        assert r.search("invoice total")
    print(
        f"\n{written['batches']} batches, median {statistics.median(written['batch_ms']):.0f} ms; "
        + ", ".join(f"{rep['reads']} reads median {statistics.median(rep['read_ms']):.0f} ms" for rep in reports)
    )


@pytest.fixture
def held(store, db_path):
    """Another process holding the database read-write for 3 s."""
    proc = worker("hold", str(db_path), "3")
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    yield proc
    proc.wait(timeout=30)


@pytest.mark.parametrize("mode", ["read", "write"])
def test_store_busy_names_the_file_and_the_holder(held, db_path, mode):
    store = Store(db_path, busy_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(StoreBusy) as info:
        with getattr(store, mode)():
            pass
    waited = time.monotonic() - started
    assert 0.4 < waited < 2.5
    message = str(info.value)
    assert str(db_path) in message
    assert f"(PID {held.pid})" in message
    assert "more than 0.5 s" in message


def test_a_waiting_writer_gets_in_once_the_holder_leaves(held, db_path):
    store = Store(db_path, busy_timeout=30)
    started = time.monotonic()
    with store.write() as w:
        w.add_event(at(0), "record_start")
    assert time.monotonic() - started > 1.0  # it had to wait for the holder
    with store.read() as r:
        assert [e["kind"] for e in r.events_between(None, None)] == ["record_start"]


def test_busy_readers_do_not_starve_the_writer(store, db_path, tmp_path):
    """Three processes read back to back; each write batch still gets in promptly."""
    with store.write() as w:
        for i in range(200):
            observe(w, at(i), [f"invoice {i} total", "static header"])
        w.refresh_search_index()
    stop = tmp_path / "stop"
    readers = [worker("reader", str(db_path), str(stop), str(tmp_path / f"r{n}.json")) for n in range(3)]
    try:
        time.sleep(1.0)  # let the readers get going
        impatient = Store(db_path, busy_timeout=10)
        waits = []
        for i in range(10):
            started = time.monotonic()
            with impatient.write() as w:
                observe(w, at(1000 + i), [f"written under load {i}"])
            waits.append(time.monotonic() - started)
    finally:
        stop.touch()
        for proc in readers:
            proc.wait(timeout=60)
    reports = [json.loads((tmp_path / f"r{n}.json").read_text()) for n in range(3)]
    assert all(rep["errors"] == [] and rep["reads"] > 0 for rep in reports)
    assert max(waits) < 5, waits
    with store.read() as r:
        assert len(r.search("written under load")) == 10
