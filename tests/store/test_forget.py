"""Forget on a real DuckDB file: rows, postings, vectors, hour summaries, frames that showed a
line, and the rewrite that leaves no byte of what went in the file."""

from __future__ import annotations

import pytest

from lifelog.errors import UsageError
from lifelog.store import rewrite
from lifelog.store.forget import Selection, forget_in
from tests.store.timeline_helpers import T0, at, frame, line
from tests.support.forgettable import KEPT, SECRET, bytes_of, plant
from tests.support.rows import audio_chunks_between, transcripts_between


def _first_hour_lines(reader) -> int:
    return reader._con.execute(
        "SELECT sum(lines) FROM hour_totals WHERE hour = ?", [T0.replace(minute=0, second=0, microsecond=0)]
    ).fetchone()[0]


def _vectors(store) -> list[tuple]:
    with store.read() as r:
        return r._con.execute('SELECT kind, "window", chunk_start FROM chunk_vectors ORDER BY ALL').fetchall()


def test_forget_matching_leaves_no_byte_and_keeps_the_rest(store, db_path):
    ids = plant(store)
    vectors_before = _vectors(store)
    with store.read() as r:
        assert _first_hour_lines(r) == 4
    report = forget_in(store, Selection(matching="SALARY review"))
    assert (report.lines, report.transcripts, report.events) == (1, 1, 1)
    with store.read() as r:
        frames = {f.id for f in r.frames_between(None, None)}
        assert frames == {ids["other"], ids["after"], ids["later"]}  # the frames that may have shown the line went
        assert [s.text for s in r.spans_between(None, None)] == [KEPT, "a later hour"]
        assert [t.text for t in transcripts_between(r, None, None)] == [f"about the {KEPT}"]
        assert [c.audio_ref for c in audio_chunks_between(r, None, None)] == ["day/kept.ogg"]
        assert r.search("zebrafinch") == [] and len(r.search("quokka")) == 2
        assert [e["detail"] for e in r.events_between(None, None)] == [{}]
        outline = r.outline_rows(None, None)
        assert SECRET not in str(outline) and KEPT in str(outline)
        assert _first_hour_lines(r) == 2  # recomputed: was 4
    assert report.audio_refs == ["day/said.ogg"]
    assert len(_vectors(store)) == len(vectors_before) - 2  # the secret's seen and heard minutes
    assert bytes_of(db_path, "zebrafinch") > 0  # deleted rows stay in the file until it is rewritten
    rewrite.rewrite_store(store)
    assert bytes_of(db_path, "zebrafinch") == 0
    assert bytes_of(db_path, "quokka") > 0
    assert not rewrite.temp_path(db_path).exists()


def test_the_rewritten_file_keeps_sequences_and_schema(store, db_path):
    plant(store)
    forget_in(store, Selection(matching=SECRET))
    with store.read() as r:
        before = r._con.execute("SELECT max(id) FROM text_spans").fetchone()[0]
        version = r._con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    rewrite.rewrite_store(store)
    with store.write() as w:
        fid = w.add_frame(frame(at(200)))
        w.observe_lines(fid, at(200), 0, "Firefox", "Inbox", [line("after the rewrite")])
    with store.read() as r:
        assert r._con.execute("SELECT max(id) FROM text_spans").fetchone()[0] == before + 1
        assert r._con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == version
        assert [h.span.text for h in r.search("rewrite")] == ["after the rewrite"]


def test_forget_a_time_range_leaves_a_gap_that_says_so(store):
    plant(store)
    report = forget_in(store, Selection(since=at(15), until=at(60)))
    assert report.transcripts == 2 and report.audio_chunks == 2 and report.events == 1
    assert report.lines == 2  # both lines were on screen then
    with store.read() as r:
        assert transcripts_between(r, None, None) == []
        events = r.events_between(None, None)
    assert [(e["kind"], e["detail"]["reason"]) for e in events] == [("gap", "forgotten")]
    assert events[0]["ts"] == at(15)


def test_forget_an_app_and_a_title(store):
    plant(store)
    with store.write() as w:
        fid = w.add_frame(frame(at(100), monitor=1, app="signal", window="Signal - Dana"))
        w.observe_lines(fid, at(100), 1, "signal", "Signal - Dana", [line("see you at the clinic")])
    report = forget_in(store, Selection(app="Signal"))
    assert (report.lines, report.frames, report.transcripts) == (1, 1, 0)
    with store.read() as r:
        assert r.search("clinic") == [] and r.search("quokka")
        assert r._con.execute("SELECT count(*) FROM search_apps WHERE app = 'signal'").fetchone()[0] == 0
    report = forget_in(store, Selection(title="(?i)^inbox$", since=at(80), until=at(3600)))
    assert report.lines == 2 and report.frames == 1  # both lines, seen until 90 and 120 s, and the frame at 90 s


def test_a_dry_run_changes_nothing(store):
    plant(store)
    dry = forget_in(store, Selection(matching=SECRET), apply=False)
    assert (dry.lines, dry.transcripts, dry.vectors) == (1, 1, 2)
    assert forget_in(store, Selection(matching=SECRET), apply=False).lines == 1


@pytest.mark.parametrize(
    "sel, message",
    [
        (Selection(), "Say what to forget"),
        (Selection(title="(unclosed"), "Bad --title regular expression"),
        (Selection(matching="  "), "needs some text"),
        (Selection(since=at(10), until=at(5)), "must be after"),
    ],
)
def test_bad_selections_are_refused(sel, message):
    with pytest.raises(UsageError, match=message):
        sel.check()


def test_a_copy_left_by_a_killed_rewrite_is_cleaned(store, db_path):
    plant(store)
    leftover = rewrite.temp_path(db_path)
    leftover.write_bytes(b"half a copy")
    rewrite.rewrite_store(store)
    assert not leftover.exists()
    with store.read() as r:
        assert r.search("quokka")


def test_an_owner_swaps_between_reads_and_keeps_serving(db_path, tmp_path):
    """The owner's rewrite waits for a read in flight, holds new reads until its connection is
    open on the new file, and then serves reads and writes as before."""
    import threading
    import time

    from lifelog.store import Store

    Store(db_path).migrate()
    owner = Store.open_owner(db_path)
    try:
        plant(owner)
        forget_in(owner, Selection(matching=SECRET))
        results, swapped = [], threading.Event()

        def slow_reader():
            with owner.read() as r:
                time.sleep(0.5)  # the rewrite starts meanwhile and must wait
                results.append((swapped.is_set(), len(r.search("quokka"))))

        reader = threading.Thread(target=slow_reader)
        reader.start()
        time.sleep(0.1)
        rewrite.rewrite_store(owner)
        swapped.set()
        reader.join()
        assert results == [(False, 2)]
        assert bytes_of(db_path, "zebrafinch") == 0
        with owner.write() as w:
            fid = w.add_frame(frame(at(300)))
            w.observe_lines(fid, at(300), 0, "Firefox", "Inbox", [line("written after the swap")])
        with owner.read() as r:
            assert len(r.search("swap")) == 1 and len(r.search("quokka")) == 2
    finally:
        owner.close()


def test_forget_on_an_encrypted_timeline_keeps_it_encrypted(tmp_path, monkeypatch):
    """The copy swapped in is encrypted with the same key, and reads back without what went."""
    from lifelog.paths import Paths
    from lifelog.store import Store, convert, crypt, keys

    monkeypatch.setenv("LIFELOG_HOME", str(tmp_path / "enc"))
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "correct horse battery staple")
    paths = Paths.from_env().ensure()
    try:
        convert.encrypt(paths, "correct horse battery staple")
        store = Store(paths.db)
        store.migrate()
        plant(store)
        forget_in(store, Selection(matching=SECRET))
        rewrite.rewrite_store(store)
        assert crypt.is_encrypted_file(paths.db)
        with store.read() as r:
            assert r.search("zebrafinch") == [] and len(r.search("quokka")) == 2
    finally:
        keys.remember(paths.data, None)
