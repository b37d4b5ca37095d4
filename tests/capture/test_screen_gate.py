"""Exclusions in the capture loop, writing real spool files: excluded windows are black in what
is spooled and unnamed in its metadata, their changes are not changes, a screen they cover is
a gap marker (also when capture stops while it lasts), and the pipeline's gap store turns the
marker into a gap event on a real DuckDB file that a context window shows without a title."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from lifelog import spool
from lifelog.capture.loop import COUNTERS, CaptureLoop, CaptureSettings
from lifelog.capture.screen import Monitor, Shot
from lifelog.capture.window import TopWindow
from lifelog.ingest.gaps import store_gaps
from lifelog.models import WindowInfo
from lifelog.replay.blocks import gap_label
from lifelog.spool.gaps import pending_gaps, read_gap
from lifelog.store import Store

W, H = 400, 300
VAULT = (0, 0, 200, 150)  # the excluded window's rectangle
NOTES = (200, 150, 400, 300)


class Screen:
    """A grey screen; ``paint`` changes what the next grabs show inside a box."""

    def __init__(self) -> None:
        self.px = np.full((H, W, 4), 180, np.uint8)

    def paint(self, box, value) -> None:
        self.px[box[1] : box[3], box[0] : box[2]] = value

    def monitors(self):
        return [Monitor(1, 0, 0, W, H)]

    def grab(self, monitor):
        return Shot(bytearray(self.px.tobytes()), W, H)

    def close(self):
        pass


class Windows:
    def __init__(self) -> None:
        self.stacked = [
            TopWindow(1, VAULT, VAULT, app="Vault", title="vault: bank pins", focused=True),
            TopWindow(2, NOTES, NOTES, app="XTerm", title="notes"),
        ]
        self.broken = False

    def active(self):
        return next((WindowInfo(w.app, w.title) for w in self.stacked if w.focused), WindowInfo())

    def visible(self):
        return [w.visible() for w in self.stacked]

    def stack(self):
        if self.broken:
            raise ConnectionError("display connection lost")
        return self.stacked


class Clock:
    def __init__(self) -> None:
        self.t, self.wall = 1000.0, datetime(2026, 11, 24, 10, 0, 0)

    def mono(self):
        return self.t

    def now(self):
        return self.wall

    def advance(self, s=0.5):
        self.t += s
        self.wall += timedelta(seconds=s)


def _loop(tmp_path, screen, windows, clock):
    counters = [0] * len(COUNTERS)
    settings = CaptureSettings(exclude_apps=("vault",), exclude_titles=(r"(?i)private browsing",))
    loop = CaptureLoop(
        tmp_path, settings, counters, grabber=screen, windows=windows, clock=clock.mono, wallclock=clock.now
    )
    return loop, counters


def test_an_excluded_window_is_black_unnamed_and_its_changes_are_not_changes(tmp_path):
    screen, windows, clock = Screen(), Windows(), Clock()
    loop, counters = _loop(tmp_path, screen, windows, clock)
    screen.paint(VAULT, 90)
    assert loop.tick() == 1
    (first,) = [spool.read_frame(p) for p in spool.pending(tmp_path)]
    assert not first.image[:150, :200].any() and (first.image[150:, 200:] == 180).all()
    assert [w.title for w in first.windows] == ["notes"]
    assert first.window == WindowInfo()  # the focus is on the excluded window: no app, no title
    for value in (10, 20, 30):  # the vault's content changes: nothing to keep
        clock.advance()
        screen.paint(VAULT, value)
        assert loop.tick() == 0
    assert counters[COUNTERS.index("skipped")] == 3
    clock.advance()
    screen.paint((300, 200, 320, 220), 0)  # the notes change
    windows.stacked = [
        TopWindow(1, VAULT, VAULT, app="Vault", title="vault: bank pins"),
        TopWindow(2, NOTES, NOTES, app="XTerm", title="notes", focused=True),
    ]
    assert loop.tick() == 1
    last = spool.read_frame(spool.pending(tmp_path)[-1])
    assert last.window == WindowInfo("XTerm", "notes")
    assert not any("vault" in f.read_bytes().decode("latin-1").lower() for f in tmp_path.iterdir() if f.is_file())


def test_a_covered_screen_is_a_gap_not_a_frame(tmp_path):
    screen, windows, clock = Screen(), Windows(), Clock()
    loop, counters = _loop(tmp_path, screen, windows, clock)
    loop.tick()
    start = clock.now()
    clock.advance()
    full = (0, 0, W, H)
    windows.stacked = [TopWindow(3, full, full, app="firefox", title="Mozilla Firefox Private Browsing", focused=True)]
    for value in (1, 2, 3, 4):
        screen.paint(full, value)
        assert loop.tick() == 0
        clock.advance()
    assert counters[COUNTERS.index("excluded")] == 4 and pending_gaps(tmp_path) == []
    windows.stacked = Windows().stacked[1:]  # the private window closes
    ended = clock.now()
    assert loop.tick() == 1
    (marker,) = pending_gaps(tmp_path)
    gap = read_gap(marker)
    assert gap.since == start + timedelta(seconds=0.5) and gap.until == ended
    assert gap.detail == {"monitor": 1, "frames": 4} and "Private" not in marker.read_text()


def test_a_gap_still_open_when_capture_stops_is_written(tmp_path):
    screen, windows, clock = Screen(), Windows(), Clock()
    loop, _ = _loop(tmp_path, screen, windows, clock)
    windows.stacked = [TopWindow(1, (0, 0, W, H), (0, 0, W, H), app="Vault")]
    loop.tick()
    clock.advance(3)
    loop.close()
    (marker,) = pending_gaps(tmp_path)
    assert read_gap(marker).until - read_gap(marker).since == timedelta(seconds=3)


def test_windows_that_cannot_be_listed_keep_nothing(tmp_path):
    screen, windows, clock = Screen(), Windows(), Clock()
    loop, counters = _loop(tmp_path, screen, windows, clock)
    windows.broken = True
    assert loop.tick() == 0 and spool.pending(tmp_path) == []
    clock.advance()
    windows.broken = False
    assert loop.tick() == 1
    assert len(pending_gaps(tmp_path)) == 1


def test_without_exclusions_the_window_source_needs_no_stack(tmp_path):
    class Plain:
        def active(self):
            return WindowInfo("XTerm", "notes")

    counters = [0] * len(COUNTERS)
    clock = Clock()
    loop = CaptureLoop(
        tmp_path, CaptureSettings(), counters, grabber=Screen(), windows=Plain(), clock=clock.mono, wallclock=clock.now
    )
    assert loop.tick() == 1
    assert spool.read_frame(spool.pending(tmp_path)[0]).window == WindowInfo("XTerm", "notes")


def test_the_pipeline_stores_a_marker_as_a_gap_that_context_shows_without_a_title(tmp_path):
    screen, windows, clock = Screen(), Windows(), Clock()
    loop, _ = _loop(tmp_path / "spool", screen, windows, clock)
    windows.stacked = [TopWindow(1, (0, 0, W, H), (0, 0, W, H), app="Vault", title="vault: bank pins")]
    loop.tick()
    clock.advance(2)
    loop.close()
    store = Store(tmp_path / "lifelog.duckdb")
    assert store_gaps(store, tmp_path / "spool") == 1
    assert pending_gaps(tmp_path / "spool") == []
    with store.read() as r:
        (event,) = [e for e in r.events_between(None, None) if e["kind"] == "gap"]
    assert event["detail"]["reason"] == "excluded"
    assert gap_label(event) == "[gap 10:00:00–10:00:02 · excluded window]"
    sound = {"ts": event["ts"], "detail": {"reason": "excluded", "sound": True, "until": "2026-11-24 10:00:02"}}
    assert gap_label(sound) == "[gap 10:00:00–10:00:02 · sound not kept: excluded window focused]"
