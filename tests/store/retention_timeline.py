"""A small timeline with real files for the retention tests: three days of text seen and heard
(``hour_timeline``), frame rows with real image files written through ``FrameImages`` (a
keyframe every 5 minutes, changed regions every minute between) and audio chunks with real
Opus files (``AudioFiles``), summarised up to the last day as the owner would have."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from lifelog.models import AudioChunkRecord
from lifelog.paths import Paths
from lifelog.store import Store
from lifelog.store.audio_files import AudioFiles
from lifelog.store.images import FrameImages
from tests.store.hour_timeline import DAY0, timeline

DAYS = 3
NOW = DAY0 + timedelta(days=DAYS - 1, hours=15)  # the afternoon of the last day


def build(home: Path) -> tuple[Paths, Store]:
    paths = Paths(home).ensure()
    store = Store(paths.db)
    seen, heard = timeline(days=DAYS)
    rnd = np.random.default_rng(5)
    images, audio = FrameImages(paths.frames), AudioFiles(paths.audio)
    frames = []
    with store.write() as w:
        w.merge_rows("seen", seen)
        w.merge_rows("heard", heard)
        for day in range(DAYS):
            for minute in range(8 * 60, 14 * 60, 1):
                ts = DAY0 + timedelta(days=day, minutes=minute, seconds=7)
                key = minute % 5 == 0
                size = (30, 40) if key else (10, 20)
                pixels = rnd.integers(0, 255, (*size, 3), dtype=np.uint8)  # noise: files of a known size
                ref = images.save(f"{ts:%H%M%S}-0.npz", f"{ts:%Y-%m-%d}", pixels)
                frames.append((ts, ref, size[1], size[0], key))
            for hour in range(9, 14):
                t = DAY0 + timedelta(days=day, hours=hour, minutes=20)
                samples = rnd.uniform(-0.5, 0.5, 16000 * 4).astype(np.float32)
                ref = audio.save(f"{t:%H%M%S}-mic.wav", f"{t:%Y-%m-%d}", samples)
                w.add_audio_chunk(
                    AudioChunkRecord(
                        t_start=t, t_end=t + timedelta(seconds=4), source="mic", audio_ref=ref, voiced_s=4.0
                    )
                )
    _retention_frames = {
        k: np.array(v, dtype=t)
        for k, v, t in zip(
            ("ts", "ref", "w", "h", "key"), zip(*frames), ("datetime64[us]", object, np.int32, np.int32, bool)
        )
    }
    with store.write() as w:  # one statement: a thousand add_frame calls take ~20 s
        w._con.execute(
            'INSERT INTO frames (ts, monitor, width, height, app, "window", image_ref, region_left,'
            " region_top, region_right, region_bottom, keyframe) SELECT ts, 0, 80, 60, 'XTerm', 'shell',"
            " ref, 0, 0, w, h, key FROM _retention_frames"
        )
        w.summarise_hours(NOW)
    return paths, store


def refs(store: Store, table: str) -> list[tuple[datetime, str, bool]]:
    """``(time, ref, keyframe)`` of every row of ``frames`` or ``audio_chunks``, time order."""
    sql = {
        "frames": "SELECT ts, image_ref, keyframe FROM frames ORDER BY ts",
        "audio_chunks": "SELECT t_start, audio_ref, false FROM audio_chunks ORDER BY t_start",
    }[table]
    with store.read() as r:
        return r._con.execute(sql).fetchall()


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")}


def text_days(store: Store) -> dict[str, int]:
    """Lines seen or heard per day."""
    with store.read() as r:
        rows = r._con.execute(
            "SELECT strftime(t_start, '%Y-%m-%d') AS d, count(*) FROM (SELECT t_start FROM text_spans"
            " UNION ALL SELECT t_start FROM transcripts) GROUP BY d ORDER BY d"
        ).fetchall()
    return dict(rows)
