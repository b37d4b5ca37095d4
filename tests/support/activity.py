"""A morning written through the store's writer for the ``activity`` tests: screens of three
apps, a stretch where the screen changed and no text was read, sound with and without speech,
imported speech, and gaps of every reason (what each minute holds is said in the tests)."""

from __future__ import annotations

from datetime import datetime, timedelta

from lifelog.models import AudioChunkRecord, Transcript
from tests.support.writes import show

DAY = datetime(2026, 11, 30)
LINES = [*(f"page {i}" for i in range(10)), "header", "header", "def main():"]  # every span the day opens


def build_day(store) -> None:
    at = DAY.replace(hour=9)
    with store.write() as w:
        for i in range(10):  # 09:00-09:09 firefox, a new line each minute
            show(w, at + timedelta(minutes=i, seconds=5), "firefox", "docs", [f"page {i}", "header"])
        for i in range(10, 15):  # 09:10-09:14 the screen changes, nothing is read
            show(w, at + timedelta(minutes=i, seconds=5), "XTerm", "shell", [])
        w.add_event(at + timedelta(minutes=12), "ocr_failure", {"monitor": 1, "frame_id": 13})
        show(w, at + timedelta(minutes=20, seconds=10), "firefox", "docs", ["header"])
        for s in (30, 40):  # 09:20: code in front on two frames of three
            show(w, at + timedelta(minutes=20, seconds=s), "code", "main.py", ["def main():"])
        _speech(w, at)
        _gaps(w, at)


def _speech(w, at: datetime) -> None:
    chunk = w.add_audio_chunk(
        AudioChunkRecord(at + timedelta(minutes=30), at + timedelta(minutes=32, seconds=30), "mic", "", 150.0)
    )
    w.add_transcripts(
        [
            Transcript(
                at + timedelta(minutes=30, seconds=10),
                at + timedelta(minutes=30, seconds=40),
                "mic",
                "test",
                "hello there",
                5,
                chunk,
            ),
            Transcript(
                at + timedelta(minutes=31, seconds=20),
                at + timedelta(minutes=31, seconds=50),
                "mic",
                "test",
                "the plan for today",
                7,
                chunk,
            ),
            Transcript(
                at + timedelta(minutes=65), at + timedelta(minutes=65, seconds=30), "file", "test", "imported", 3
            ),
        ]
    )


def _gaps(w, at: datetime) -> None:
    def gap(start: datetime, minutes: float | None, reason: str, **detail) -> None:
        until = None if minutes is None else start + timedelta(minutes=minutes)
        w.add_event(start, "gap", {"reason": reason, **({"until": until} if until else {}), **detail})

    gap(at - timedelta(hours=2), 30, "paused")  # before the range: not counted
    gap(at - timedelta(hours=1), 60, "recorder down")
    gap(at + timedelta(minutes=15), 0.5, "ocr_behind", monitor=1, frames_shed=7)
    gap(at + timedelta(minutes=33), 1, "excluded", sound=True)
    gap(at + timedelta(minutes=40), 15, "paused")
    gap(at + timedelta(minutes=90), 2, "no screen (the X server went away)")
    gap(at + timedelta(minutes=100), None, "capture_failed", error="gone")
    gap(at + timedelta(minutes=120), 5, "paused")
