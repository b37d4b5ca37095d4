"""Checks on what a real recording stored: waiting for its frames, and excluded rectangles black."""

from __future__ import annotations

import json
import subprocess

from lifelog.paths import Paths
from lifelog.store import Store
from lifelog.store.images import FrameImages
from tests.cli.helpers import lifelog
from tests.support.wait import wait_for


def wait_for_frames(env: dict, rec: subprocess.Popen, n: int) -> None:
    def stored() -> bool:
        status = lifelog("status", "--json", env=env, check=False, timeout=60)
        return status.returncode == 0 and json.loads(status.stdout).get("frames_stored", 0) >= n

    wait_for(stored, timeout=180, what=f"the recorder to store {n} frames", interval=1, process=rec)


def assert_black(paths: Paths, boxes: list[tuple[int, int, int, int]]) -> None:
    """Every stored screen is black inside each excluded window's rectangle."""
    with Store(paths.db).read() as r:
        frames = [f for f in r.frames_between(None, None) if f.monitor == 1]
    assert frames
    images = FrameImages(paths.frames)
    for i in range(len(frames)):
        screen = images.reconstruct(frames[: i + 1])
        assert screen.max() > 0, "the ordinary window shows"
        for left, top, right, bottom in boxes:
            assert not screen[top:bottom, left:right].any(), (
                f"frame {i}: excluded box {(left, top, right, bottom)} not black"
            )
