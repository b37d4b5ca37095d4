"""A small timeline holding a secret to forget and a line to keep, for the forget and live
rewrite tests: ``plant`` writes two minutes of one monitor (frames that show the secret and
frames that do not, transcripts, an ask event, vectors, hour summaries), ``write_meanwhile``
what the recorder writes while a rewrite copies the file, ``bytes_of`` how often a text is
still in the database file and its WAL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from lifelog.models import AudioChunkRecord
from lifelog.store import embeddings, rewrite
from tests.store.timeline_helpers import T0, at, frame, line, said

SECRET = "zebrafinch salary review"
KEPT = "quokka budget memo"


def plant(store) -> dict:
    """Two minutes of one monitor: the secret line at top 100 in the first, a kept line at top
    400 throughout, a transcript of each, an ask event holding the secret; vectors and hour
    summaries brought up to date. Returns the frame ids by what they show."""
    ids = {}
    with store.write() as w:
        ids["key"] = w.add_frame(frame(at(0)))  # a keyframe: the whole screen, secret included
        w.observe_lines(ids["key"], at(0), 0, "Firefox", "Inbox", [line(SECRET, top=100), line(KEPT, top=400)])
        far = replace(frame(at(5)), keyframe=False, region=(0, 600, 1920, 700), image_ref="far.webp")
        ids["far"] = w.add_frame(far)  # changed far below the secret line: its screen still shows it
        w.observe_lines(ids["far"], at(5), 0, "Firefox", "Inbox", [line(SECRET, top=100), line(KEPT, top=400)])
        other = replace(frame(at(6), monitor=1), keyframe=False, image_ref="other.webp")
        ids["other"] = w.add_frame(other)  # another monitor: never showed it
        ids["after"] = w.add_frame(replace(frame(at(90)), image_ref="after.webp"))  # the secret is gone by then
        w.observe_lines(ids["after"], at(90), 0, "Firefox", "Inbox", [line(KEPT, top=400)])
        chunk = w.add_audio_chunk(AudioChunkRecord(at(20), at(30), "mic", "day/said.ogg", 10.0))
        kept_chunk = w.add_audio_chunk(AudioChunkRecord(at(40), at(50), "mic", "day/kept.ogg", 10.0))
        w.add_transcripts(
            [
                said(20, 30, f"about the {SECRET}", chunk_id=chunk),
                said(40, 50, f"about the {KEPT}", chunk_id=kept_chunk),
            ]
        )
        w.add_event(at(25), "ask", {"question": f"what of the {SECRET}?", "answer": "later"})
        w.close_spans(at(120))
        later = w.add_frame(frame(at(7200), monitor=1))  # the next hour: the first one gets summarised
        w.observe_lines(later, at(7200), 1, "Firefox", "Inbox", [line("a later hour")])
        ids["later"] = later
        w.summarise_hours(now=T0 + timedelta(days=1))
    embed(store)
    return ids


def embed(store) -> None:
    with store.write() as w:
        batch = embeddings.pending(w._con, 100, model="test", now=T0 + timedelta(days=1))
        embeddings.store_vectors(w._con, batch, [[0.5] + [0.0] * 383 for _ in batch.texts()])


def bytes_of(db_path: Path, text: str) -> int:
    files = [db_path, rewrite.wal_path(db_path)]
    return sum(p.read_bytes().count(text.encode()) for p in files if p.exists())


def write_meanwhile(store, k: int) -> None:
    """What the recorder and the owner's workers write while a copy is made: new frames and
    lines, open spans extended and closed, text heard, an event, a recording, hour summaries."""
    with store.write() as w:
        fid = w.add_frame(frame(at(300 + k)))
        w.observe_lines(
            fid, at(300 + k), 0, "Firefox", "Inbox", [line(KEPT, top=400), line(f"written during copy {k}", top=500)]
        )
        chunk = w.add_audio_chunk(AudioChunkRecord(at(310 + k), at(315 + k), "mic", f"day/m{k}.ogg", 5.0))
        w.add_transcripts([said(310 + k, 315 + k, f"heard during copy {k}", chunk_id=chunk)])
        w.add_event(at(320 + k), "pause", {"k": k})
        w.upsert_recording({"id": f"rec-{k}", "started": at(300 + k)})
    with store.write() as w:
        other = w.add_frame(frame(at(330 + k), monitor=1))
        w.observe_lines(other, at(330 + k), 1, "Firefox", "Inbox", [line("the other screen now")])
        w.summarise_hours(now=T0 + timedelta(days=1))
