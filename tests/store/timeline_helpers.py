"""Helpers shared by the store tests (imported by name; tests/store is on sys.path)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from lifelog.models import FrameRecord, OcrLine, Transcript

T0 = datetime(2026, 3, 2, 9, 0, 0, 250_000)
SRC = Path(__file__).resolve().parents[2] / "src"
WORKERS = Path(__file__).with_name("workers.py")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def line(text: str, top: int = 0, left: int = 0) -> OcrLine:
    return OcrLine(text=text, box=(left, top, left + 200, top + 20))


def frame(ts: datetime, monitor: int = 0, app: str = "Firefox", window: str = "Inbox") -> FrameRecord:
    return FrameRecord(
        ts=ts,
        monitor=monitor,
        width=1920,
        height=1080,
        app=app,
        window=window,
        image_ref=f"frames/{ts:%H%M%S%f}-{monitor}.jpg",
        region=(0, 0, 1920, 1080),
        keyframe=True,
    )


def observe(writer, ts: datetime, texts: list[str], monitor: int = 0, app: str = "Firefox") -> tuple[int, int]:
    """Store a frame and the given lines (one per row, 30 px apart) as seen on it."""
    fid = writer.add_frame(frame(ts, monitor, app))
    lines = [line(t, top=30 * i) for i, t in enumerate(texts)]
    return writer.observe_lines(fid, ts, monitor, app, "Inbox", lines)


def said(start: float, end: float, text: str, source: str = "mic", chunk_id: int | None = None) -> Transcript:
    """A transcript of ``text`` heard from ``source`` between at(start) and at(end)."""
    return Transcript(
        t_start=at(start),
        t_end=at(end),
        source=source,
        engine="faster-whisper",
        text=text,
        tokens=len(text.split()),
        chunk_id=chunk_id,
    )


def open_flags(db_path: Path) -> dict[int, bool]:
    """span id -> whether it is still open, read straight from the file."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return dict(con.execute("SELECT id, open FROM text_spans").fetchall())
    finally:
        con.close()


def worker(*args: str) -> subprocess.Popen:
    """Start tests/store/workers.py in a separate process (its own DuckDB instance)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.Popen(
        [sys.executable, str(WORKERS), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
