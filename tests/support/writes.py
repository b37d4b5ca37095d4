"""Screens written straight through the store's writer, for tests that build a timeline without
recording one."""

from __future__ import annotations

from datetime import datetime

from lifelog.models import FrameRecord, OcrLine


def show(w, ts: datetime, app: str, title: str, lines: list[str] | list[OcrLine], monitor: int = 1) -> int:
    """Store a 1920x1080 keyframe of ``app``/``title`` on ``monitor`` at ``ts`` and the lines seen on
    it: strings stacked 30 px apart from the top, or OcrLines as given. Returns the frame's id."""
    fid = w.add_frame(
        FrameRecord(
            ts=ts,
            monitor=monitor,
            width=1920,
            height=1080,
            app=app,
            window=title,
            image_ref="",
            region=(0, 0, 1920, 1080),
            keyframe=True,
        )
    )
    seen = [t if isinstance(t, OcrLine) else OcrLine(t, (10, 30 * i, 900, 30 * i + 20)) for i, t in enumerate(lines)]
    w.observe_lines(fid, ts, monitor, app, title, seen)
    return fid
