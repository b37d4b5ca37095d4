"""Change detection: exact regions, caret blinks ignored, and on a real X screen a static
screen keeps ~no frames while a change is caught within one capture interval."""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import timedelta

import numpy as np

from lifelog import spool
from lifelog.capture.change import ChangeDetector
from lifelog.capture.loop import COUNTERS, CaptureLoop, CaptureSettings
from lifelog.capture.screen import Shot
from lifelog.timespec import utcnow


def _shot(pixels: np.ndarray) -> Shot:
    return Shot(bytearray(pixels.tobytes()), pixels.shape[1], pixels.shape[0])


def test_first_frame_is_whole_screen_then_unchanged_is_none():
    det = ChangeDetector()
    img = np.full((100, 200, 4), 255, np.uint8)
    assert det.changed_region(_shot(img)) == (0, 0, 200, 100)
    det.keep(_shot(img))
    assert det.changed_region(_shot(img.copy())) is None


def test_changed_region_is_exact_bounding_box():
    det = ChangeDetector()
    img = np.full((100, 200, 4), 255, np.uint8)
    det.keep(_shot(img))
    changed = img.copy()
    changed[40:52, 30:38] = 0  # a typed character
    changed[60:62, 90:120] = 0
    assert det.changed_region(_shot(changed)) == (30, 40, 120, 62)


def test_caret_blink_is_ignored_and_compared_against_kept_frame():
    det = ChangeDetector()
    img = np.full((100, 200, 4), 255, np.uint8)
    det.keep(_shot(img))
    caret = img.copy()
    caret[10:26, 50:52] = 0  # 2x16 caret
    assert det.changed_region(_shot(caret)) is None
    # A real edit later includes the caret area too, since the reference is the kept frame.
    edit = caret.copy()
    edit[10:26, 60:70] = 0
    assert det.changed_region(_shot(edit)) == (50, 10, 70, 26)


def _run_loop(tmp_path, seconds, during=None):
    counters = [0] * len(COUNTERS)
    loop = CaptureLoop(tmp_path, CaptureSettings(fps=2.0), counters)
    stop = threading.Event()
    t = threading.Thread(target=loop.run, args=(stop,), kwargs={"deadline": time.monotonic() + seconds})
    t.start()
    result = during() if during else None
    t.join()
    loop.close()
    return dict(zip(COUNTERS, counters)), result


def test_static_screen_keeps_no_frames_after_the_first(screen, tmp_path):
    counts, _ = _run_loop(tmp_path, 4.0)
    assert counts["grabs"] >= 7
    assert counts["kept"] == 1  # the initial keyframe only
    assert counts["skipped"] == counts["grabs"] - 1
    assert len(spool.pending(tmp_path)) == 1


def test_change_is_caught_within_one_interval(screen, tmp_path):
    marks = []

    def change_background():
        time.sleep(1.2)
        subprocess.run(["xsetroot", "-solid", "#336699"], env=screen.env, check=True)
        marks.append(utcnow())
        time.sleep(1.5)
        subprocess.run(["xsetroot", "-solid", "#000000"], env=screen.env, check=True)

    counts, _ = _run_loop(tmp_path, 4.0, change_background)
    frames = [spool.read_frame(p) for p in spool.pending(tmp_path)]
    after = [f.ts for f in frames if f.ts >= marks[0] - timedelta(milliseconds=50)]
    assert after, "the change was never captured"
    assert after[0] - marks[0] <= timedelta(seconds=0.5 + 0.15)
    assert counts["kept"] >= 3  # first frame, the change, the change back
