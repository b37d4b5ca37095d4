"""Sound while an excluded window has focus: never kept, the chunk in progress and a finished
chunk a check had not yet cleared are dropped, the stretch is a gap marker. Real speech-like
blocks through the real chunker; the focus comes from a window stack the test sets."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from lifelog.capture.audio import AudioLoop, AudioSettings
from lifelog.capture.audio_gate import FocusGate
from lifelog.capture.window import TopWindow
from lifelog.spool.audio import RATE, pending_chunks, read_chunk
from lifelog.spool.gaps import pending_gaps, read_gap

BLOCK = RATE // 10  # 0.1 s, as sounddevice delivers them


class Focus:
    def __init__(self) -> None:
        self.app = "XTerm"

    def stack(self):
        return [TopWindow(1, (0, 0, 10, 10), (0, 0, 10, 10), app=self.app, focused=True)]

    def close(self):
        pass


class Clock:
    def __init__(self) -> None:
        self.t, self.wall = 0.0, datetime(2026, 11, 24, 10, 0, 0)

    def mono(self):
        return self.t

    def now(self):
        return self.wall


def tone(n: int) -> np.ndarray:
    t = np.arange(n * BLOCK) / RATE
    return (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


class Feeder:
    """Drives an AudioLoop's block handling the way ``run`` does, one 0.1 s block at a time."""

    def __init__(self, tmp_path, focus: Focus) -> None:
        self.clock = Clock()
        settings = AudioSettings(
            sources=("mic",), exclude_apps=("vault",), gap_dir=str(tmp_path / "gaps"), focus_every_s=0.3
        )
        self.loop = AudioLoop(tmp_path, settings, [0] * 6, windows=focus)
        self.loop.focus = FocusGate(settings, tmp_path / "gaps", focus, clock=self.clock.mono, wallclock=self.clock.now)

    def feed(self, samples: np.ndarray) -> None:
        for i in range(0, len(samples), BLOCK):
            ts = self.clock.wall
            self.clock.t += 0.1
            self.clock.wall += timedelta(seconds=0.1)
            self.loop.take("mic", ts, samples[i : i + BLOCK])

    def idle(self) -> None:
        """The queue stays empty a while (``run`` waits 0.2 s for a block)."""
        for _ in range(2):
            self.clock.t += 0.2
            self.clock.wall += timedelta(seconds=0.2)
            self.loop.idle()


def test_nothing_is_kept_while_an_excluded_window_has_focus(tmp_path):
    focus = Focus()
    f = Feeder(tmp_path, focus)
    f.feed(np.concatenate([tone(10), np.zeros(10 * BLOCK, np.int16)]))  # speech, then a pause ends the chunk
    f.idle()
    assert len(pending_chunks(tmp_path)) == 1
    f.feed(tone(5))  # speech starts in the ordinary window...
    focus.app = "Vault"  # ...and goes on once the vault has focus
    f.feed(np.concatenate([tone(20), np.zeros(10 * BLOCK, np.int16)]))
    f.idle()
    assert len(pending_chunks(tmp_path)) == 1, "neither the chunk in progress nor what followed is kept"
    focus.app = "XTerm"
    f.feed(np.concatenate([tone(10), np.zeros(12 * BLOCK, np.int16)]))
    f.idle()
    chunks = pending_chunks(tmp_path)
    assert len(chunks) == 2
    (gap,) = [read_gap(p) for p in pending_gaps(tmp_path / "gaps")]
    assert gap.detail == {"sound": True} and gap.reason == "excluded"
    started, _, samples = read_chunk(chunks[1])
    assert started >= gap.until, "what was kept after the stretch began after it"
    assert gap.until - gap.since >= timedelta(seconds=2.5)


def test_a_finished_chunk_waits_for_a_check_after_its_last_sample(tmp_path):
    focus = Focus()
    f = Feeder(tmp_path, focus)
    f.feed(np.concatenate([tone(10), np.zeros(8 * BLOCK, np.int16)]))  # the chunk ends on this block
    held = len(pending_chunks(tmp_path))
    focus.app = "Vault"  # the switch came before the next check could clear the chunk
    f.feed(np.zeros(5 * BLOCK, np.int16))
    f.idle()
    assert held == 0 and pending_chunks(tmp_path) == []


def test_closing_while_excluded_writes_the_gap(tmp_path):
    focus = Focus()
    f = Feeder(tmp_path, focus)
    focus.app = "vault"
    f.feed(tone(10))
    f.loop.close()
    assert pending_chunks(tmp_path) == [] and len(pending_gaps(tmp_path / "gaps")) == 1


def test_without_exclusions_chunks_go_straight_to_the_spool(tmp_path):
    loop = AudioLoop(tmp_path, AudioSettings(sources=("mic",)), [0] * 6, windows=Focus())
    t = datetime(2026, 11, 24, 10, 0, 0)
    samples = np.concatenate([tone(10), np.zeros(10 * BLOCK, np.int16)])
    for i in range(0, len(samples), BLOCK):
        loop.take("mic", t + timedelta(seconds=i / RATE), samples[i : i + BLOCK])
    assert len(pending_chunks(tmp_path)) == 1
