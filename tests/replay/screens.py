"""A data folder holding a recorded-looking stretch of work: real rendered screens stored as
frame images (keyframes and changed regions, as the pipeline stores them) and the text read
from them, in a real DuckDB timeline. Imported by the messages tests (replay and CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lifelog.models import FrameRecord, OcrLine
from lifelog.paths import Paths
from lifelog.store import Store
from lifelog.store.images import FrameImages

T0 = datetime(2026, 11, 24, 9, 0, 0)
W, H = 1920, 1080
ROW = 60
BIG_CHANGE = 17  # the xterm line whose redraw changes the most of the screen


@dataclass
class Recorded:
    paths: Paths
    store: Store
    images: FrameImages
    screens: dict[datetime, np.ndarray] = field(default_factory=dict)  # the whole monitor after each frame


def draw(lines: list[str], bg=(250, 250, 250), fg=(20, 20, 20)) -> np.ndarray:
    image = Image.new("RGB", (W, H), bg)
    pen = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    for i, text in enumerate(lines):
        pen.text((40, 40 + ROW * i), text, fill=fg, font=font)
    return np.asarray(image).copy()


def record(home) -> Recorded:
    """Firefox at 09:00 (a line added at 09:00:20), an xterm from 09:05 scrolling for a minute,
    an hour away, then an editor from 10:10 and again at 10:12."""
    paths = Paths(home).ensure()
    store = Store(paths.db)
    store.migrate()
    rec = Recorded(paths, store, FrameImages(paths.frames))
    invoice = ["Invoice 4821", "Total due: 1,250.00 EUR"]
    log = [f"request {i} served in {i % 17} ms" for i in range(30)]
    with store.write() as w:
        _store(rec, w, T0, ("firefox", "Invoices"), invoice)
        _store(
            rec,
            w,
            T0 + timedelta(seconds=20),
            ("firefox", "Invoices"),
            [*invoice, "Paid on 2 December"],
            box=(0, 40 + 2 * ROW, W, 40 + 3 * ROW),
        )
        shell = ["$ make test", "12 passed"]
        _store(rec, w, T0 + timedelta(minutes=5), ("XTerm", "bash"), shell, dark=True)
        for i in range(len(log)):
            tall = 10 * ROW if i == BIG_CHANGE else ROW
            _store(
                rec,
                w,
                T0 + timedelta(minutes=5, seconds=2 + 2 * i),
                ("XTerm", "bash"),
                [*shell, *log[: i + 1]][-16:],
                box=(0, 40 + 15 * ROW - tall, W, 40 + 16 * ROW),
                dark=True,
            )
        notes = ["Meeting notes", "Ship the parser on Thursday"]
        _store(rec, w, T0 + timedelta(minutes=70), ("gedit", "notes.md"), notes)
        _store(rec, w, T0 + timedelta(minutes=72), ("gedit", "notes.md"), [*notes, "Ask Dana about the budget"])
        w.close_spans(T0 + timedelta(minutes=75))
    return rec


def _store(rec: Recorded, w, ts, where, text, *, box=None, dark=False) -> None:
    """Store one frame: a keyframe of the whole screen, or (``box``) the region that changed."""
    screen = draw(text, bg=(0, 0, 0), fg=(230, 230, 230)) if dark else draw(text)
    left, top, right, bottom = box or (0, 0, W, H)
    shown = rec.screens[max(rec.screens)].copy() if box else screen
    shown[top:bottom, left:right] = screen[top:bottom, left:right]
    rec.screens[ts] = shown
    ref = rec.images.save(
        f"{ts:%H%M%S}-1.spool", f"{ts:%Y-%m-%d}", np.ascontiguousarray(screen[top:bottom, left:right])
    )
    app, title = where
    fid = w.add_frame(
        FrameRecord(
            ts=ts,
            monitor=1,
            width=W,
            height=H,
            app=app,
            window=title,
            image_ref=ref,
            region=(left, top, right, bottom),
            keyframe=box is None,
        )
    )
    w.observe_lines(
        fid, ts, 1, app, title, [OcrLine(t, (40, 40 + ROW * i, 900, 80 + ROW * i)) for i, t in enumerate(text)]
    )
