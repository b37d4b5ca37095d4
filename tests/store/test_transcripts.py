"""Text heard: audio chunks and transcripts stored, read back by time range, counted, rolled back."""

from __future__ import annotations

import dataclasses
from datetime import timedelta, timezone

import pytest

from lifelog.models import AudioChunkRecord
from tests.store.timeline_helpers import T0, at, observe, said
from tests.support.rows import audio_chunks_between, transcripts_between


def chunk(start: float, end: float, source: str = "mic", voiced_s: float = 1.0) -> AudioChunkRecord:
    return AudioChunkRecord(
        t_start=at(start), t_end=at(end), source=source, audio_ref=f"{source}/{start:g}.ogg", voiced_s=voiced_s
    )


def test_transcripts_and_chunks_round_trip(store):
    odd = 'it\'s “quoted” — 日本語 😀 back\\\\slash\nnew line "x"'
    with store.write() as w:
        chunk_id = w.add_audio_chunk(chunk(0, 30, voiced_s=12.5))
        assert w.add_audio_chunk(chunk(30, 60, "system", voiced_s=3.25)) == chunk_id + 1
        rows = [said(1, 4, "let's start the budget review", chunk_id=chunk_id), said(5, 9, odd, chunk_id=chunk_id)]
        assert w.add_transcripts(rows) == 2
        assert w.add_transcripts([]) == 0
    with store.read() as r:
        got = transcripts_between(r, None, None)
        chunks = audio_chunks_between(r, None, None)
    assert [dataclasses.replace(t, id=None) for t in got] == rows
    assert len({t.id for t in got}) == 2 and all(t.id for t in got)
    assert got[1].text == odd and got[1].tokens == len(odd.split())
    assert [(c.id, c.source, c.audio_ref, c.voiced_s, c.t_start, c.t_end) for c in chunks] == [
        (chunk_id, "mic", "mic/0.ogg", 12.5, at(0), at(30)),
        (chunk_id + 1, "system", "system/30.ogg", 3.25, at(30), at(60)),
    ]


def test_aware_times_are_stored_as_naive_utc(store):
    def ahead(ts):  # the same instant on a clock two hours ahead of UTC
        return (ts + timedelta(hours=2)).replace(tzinfo=timezone(timedelta(hours=2)))

    with store.write() as w:
        w.add_transcripts([dataclasses.replace(said(0, 2, "hello"), t_start=ahead(T0), t_end=ahead(at(2)))])
        w.add_audio_chunk(dataclasses.replace(chunk(0, 2), t_start=ahead(T0), t_end=ahead(at(2))))
    with store.read() as r:
        (t,) = transcripts_between(r, None, None)
        (c,) = audio_chunks_between(r, None, None)
    assert (t.t_start, t.t_end) == (T0, at(2)) and t.t_start.tzinfo is None
    assert (c.t_start, c.t_end) == (T0, at(2))


def test_transcripts_between_overlaps_the_range_in_a_deterministic_order(store):
    with store.write() as w:
        w.add_transcripts([said(10, 12, "late mic"), said(0, 4, "first words")])
        w.add_transcripts([said(5, 10, "system talk", source="system"), said(5, 7, "mic talk")])
        w.add_transcripts([said(5, 6, "mic talk again")])  # same start and source: by id
    with store.read() as r:
        everything = [t.text for t in transcripts_between(r, None, None)]
        assert everything == ["first words", "mic talk", "mic talk again", "system talk", "late mic"]
        assert [t.text for t in transcripts_between(r, at(4), at(5))] == ["first words"]  # ended at 4
        assert [t.text for t in transcripts_between(r, at(10), at(10.5))] == ["system talk", "late mic"]
        assert [t.text for t in transcripts_between(r, at(6.5), at(8))] == ["mic talk", "system talk"]
        assert [t.text for t in transcripts_between(r, None, at(5))] == ["first words"]  # until excludes 5
        assert [t.text for t in transcripts_between(r, at(11), None)] == ["late mic"]
        assert transcripts_between(r, at(13), at(20)) == []


def test_audio_chunks_between_overlaps_the_range(store):
    with store.write() as w:
        w.add_audio_chunk(chunk(30, 60, "system"))
        w.add_audio_chunk(chunk(0, 30))
        w.add_audio_chunk(chunk(30, 45))
    with store.read() as r:
        assert [(c.source, c.t_start) for c in audio_chunks_between(r, None, None)] == [
            ("mic", at(0)),
            ("mic", at(30)),
            ("system", at(30)),
        ]
        assert [c.audio_ref for c in audio_chunks_between(r, at(50), at(70))] == ["system/30.ogg"]
        assert [c.audio_ref for c in audio_chunks_between(r, None, at(30))] == ["mic/0.ogg"]


def test_stats_count_text_heard_and_sum_audio_counters(store):
    with store.write() as w:
        w.add_audio_chunk(chunk(100, 130, voiced_s=12.5))
        w.add_audio_chunk(chunk(130, 160, voiced_s=7.25))
        w.add_transcripts([said(100, 104, "budget review"), said(150, 170, "thanks everyone")])
        w.upsert_recording(
            {"id": "a", "started": at(0), "audio_chunks": 2, "audio_voiced_ms": 19750, "audio_silent_ms": 40250}
        )
        w.upsert_recording({"id": "b", "started": at(200), "frames_seen": 3})  # audio counters default 0
    with store.read() as r:
        stats = r.stats()
        assert r.recordings()[1]["audio_chunks"] == 0
    assert (stats.transcripts, stats.audio_chunks, stats.audio_voiced_s) == (2, 2, 19.75)
    assert (stats.first_ts, stats.last_ts) == (at(100), at(170))  # no screen at all: still a timeline
    assert {
        k: stats.counters[k]
        for k in (
            "recordings",
            "audio_chunks",
            "audio_voiced_ms",
            "audio_silent_ms",
            "frames_seen",
            "unindexed_transcripts",
        )
    } == {
        "recordings": 2,
        "audio_chunks": 2,
        "audio_voiced_ms": 19750,
        "audio_silent_ms": 40250,
        "frames_seen": 3,
        "unindexed_transcripts": 0,  # indexed as stored
    }
    with store.write() as w:
        w.refresh_search_index()
        observe(w, at(50), ["seen before anything was heard"])
    with store.read() as r:
        stats = r.stats()
    assert stats.counters["unindexed_transcripts"] == 0
    assert (stats.first_ts, stats.last_ts) == (at(50), at(170))


def test_a_failed_write_leaves_no_transcripts(store):
    with store.write() as w:
        w.add_transcripts([said(0, 2, "kept from an earlier batch")])
    with pytest.raises(RuntimeError, match="next file"), store.write() as w:
        chunk_id = w.add_audio_chunk(chunk(10, 40))
        assert w.add_transcripts([said(10, 12, "half imported", chunk_id=chunk_id)] * 3) == 3
        assert len(transcripts_between(w, None, None)) == 4  # visible inside the transaction
        raise RuntimeError("import failed on the next file")
    with store.read() as r:
        assert [t.text for t in transcripts_between(r, None, None)] == ["kept from an earlier batch"]
        assert audio_chunks_between(r, None, None) == []
        assert r.search("half imported") == []
        assert (r.stats().transcripts, r.stats().audio_chunks) == (1, 0)
