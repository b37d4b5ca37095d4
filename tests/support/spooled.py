"""Frames put into a real spool as capture puts them (``lifelog.spool.write_frame``), for the
ingest tests: a page, or the changed region of it, seen in an xterm titled "tickets"."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from lifelog import spool
from lifelog.models import SpooledFrame, WindowInfo

T0 = datetime(2026, 11, 24, 10, 0, 0)


def spool_frame(paths, ts, page, region, keyframe, **extra):
    left, top, right, bottom = region
    frame = SpooledFrame(
        ts,
        1,
        page.shape[1],
        page.shape[0],
        region,
        keyframe,
        WindowInfo("XTerm", "tickets"),
        np.ascontiguousarray(page[top:bottom, left:right]),
        **extra,
    )
    return spool.write_frame(paths.spool, frame)
