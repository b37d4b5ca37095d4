"""Exclusions, decided in the capture process before anything is written: which windows are
excluded (``exclude_apps``, ``exclude_titles``), the screen regions to blank, and whether
the focused window is one of them.

Which windows. A window is excluded when its WM_CLASS class or instance is one of
``exclude_apps`` (any case), or a regex of ``exclude_titles`` is found in its title. So is
what belongs to it: a window transient for an excluded one (its dialogs), a window of the
same process (``_NET_WM_PID``) as an excluded *app*, an override-redirect popup of the same
process overlapping an excluded window (a private window's menus share the process of the
ordinary windows, so only overlap ties them), and an override-redirect popup that says
nothing of its owner (no WM_CLASS, no pid, not transient) lying over an excluded window.

What is blanked. The stack is painted bottom to top: an excluded window's outer rectangle
(its frame too: the title bar shows the title) turns black, an ordinary opaque window drawn
over it takes its own rectangle back. A window moves or appears between reading the stack and
grabbing the screen, so capture reads the stack before and after the grab and blanks what
either read says, and the whole sweep of an excluded window that moved in between.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from lifelog.capture.window import TopWindow
from lifelog.models import Box, VisibleWindow, WindowInfo

FULL_SCREEN = 0.95  # a monitor this much blanked is not kept at all: a gap


class Matcher:
    """``exclude_apps`` (names, any case) and ``exclude_titles`` (regexes, ``re.search``)."""

    def __init__(self, apps: tuple[str, ...] = (), titles: tuple[str, ...] = ()) -> None:
        self.apps = frozenset(a.strip().casefold() for a in apps if a.strip())
        self.titles = tuple(re.compile(t) for t in titles)

    def __bool__(self) -> bool:
        return bool(self.apps or self.titles)

    def app(self, *names: str) -> bool:
        return any(n and n.casefold() in self.apps for n in names)

    def title(self, title: str) -> bool:
        return bool(title) and any(p.search(title) for p in self.titles)

    def window(self, w: TopWindow) -> bool:
        return self.app(w.app, w.instance) or self.title(w.title)

    def info(self, w: WindowInfo) -> bool:
        return self.app(w.app) or self.title(w.title)


def excluded_ids(stack: list[TopWindow], matcher: Matcher) -> set[int]:
    """The ids of the excluded windows of ``stack`` and of the windows that belong to them."""
    by_app = {w.id for w in stack if matcher.app(w.app, w.instance)}
    out = by_app | {w.id for w in stack if matcher.title(w.title)}
    app_pids = {w.pid for w in stack if w.id in by_app and w.pid}
    grew = True
    while grew:  # dialogs of dialogs
        more = {w.id for w in stack if w.id not in out and (w.transient_for in out or w.pid in app_pids)}
        more |= {w.id for w in stack if w.id not in out and w.override_redirect and _popup_of(w, stack, out)}
        out |= more
        grew = bool(more)
    return out


def _popup_of(popup: TopWindow, stack: list[TopWindow], excluded: set[int]) -> bool:
    """An override-redirect popup over an excluded window, of its process or of no known owner."""
    anonymous = not (popup.app or popup.instance or popup.pid or popup.transient_for)
    return any(
        w.id in excluded and _overlap(popup.box, w.box) and (anonymous or (popup.pid and popup.pid == w.pid))
        for w in stack
    )


def blank_boxes(stack: list[TopWindow], excluded: set[int]) -> list[Box]:
    """The parts of excluded windows that show (root coordinates): ``stack`` is topmost first."""
    boxes: list[Box] = []
    for w in reversed(stack):
        if w.id in excluded:
            boxes.append(w.box)
        elif w.opaque:
            boxes = [part for b in boxes for part in subtract(b, w.box)]
    return boxes


@dataclass
class View:
    """What exclusions make of the screen at one grab: the boxes to blank (root coordinates),
    the windows that may be named, and whether the focus is excluded. ``known`` is False when
    the windows could not be listed: then nothing of the grab may be kept."""

    blank: list[Box] = field(default_factory=list)
    windows: list[VisibleWindow] = field(default_factory=list)
    focus_excluded: bool = False
    known: bool = True


def view(reads: list[list[TopWindow]], matcher: Matcher) -> View:
    """One view from the stack read before and after a grab (see the module docstring)."""
    excluded = [excluded_ids(stack, matcher) for stack in reads]
    gone = set().union(*excluded)
    blank = [b for stack, ex in zip(reads, excluded) for b in blank_boxes(stack, ex)]
    blank = list(dict.fromkeys(blank + _sweeps(reads, gone)))  # the same box from both reads once
    last = reads[-1]
    return View(
        blank=blank,
        windows=[w.visible() for w in last if w.id not in gone and (w.app or w.instance or w.title)],
        focus_excluded=any(w.focused and w.id in gone for stack in reads for w in stack),
    )


def _sweeps(reads: list[list[TopWindow]], excluded: set[int]) -> list[Box]:
    """The hull of each excluded window that moved between the reads: it was somewhere between."""
    if len(reads) < 2:
        return []
    first = {w.id: w.box for w in reads[0] if w.id in excluded}
    out = []
    for w in reads[-1]:
        if w.id in first and first[w.id] != w.box:
            a, b = first[w.id], w.box
            out.append((min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])))
    return out


def on_screen(boxes: list[Box], left: int, top: int, width: int, height: int) -> list[Box]:
    """``boxes`` (root coordinates) clipped to a monitor, in its pixel coordinates."""
    out = []
    for x0, y0, x1, y1 in boxes:
        box = (max(x0 - left, 0), max(y0 - top, 0), min(x1 - left, width), min(y1 - top, height))
        if box[0] < box[2] and box[1] < box[3]:
            out.append(box)
    return out


def blank(raw: bytearray, width: int, height: int, boxes: list[Box]) -> float:
    """Fill ``boxes`` black in a BGRA buffer, in place; returns the share of the screen blanked."""
    if not boxes:
        return 0.0
    pixels = np.frombuffer(raw, np.uint32).reshape(height, width)
    for x0, y0, x1, y1 in boxes:
        pixels[y0:y1, x0:x1] = 0
    return union_area(boxes) / float(width * height)


def union_area(boxes: list[Box]) -> int:
    """The area covered by ``boxes`` together (overlaps counted once)."""
    xs = sorted({x for b in boxes for x in (b[0], b[2])})
    area = 0
    for x0, x1 in zip(xs, xs[1:]):
        spans = sorted((b[1], b[3]) for b in boxes if b[0] <= x0 and b[2] >= x1)
        covered, end = 0, None
        for y0, y1 in spans:
            if end is None or y0 > end:
                covered += y1 - y0
                end = y1
            elif y1 > end:
                covered += y1 - end
                end = y1
        area += covered * (x1 - x0)
    return area


def subtract(a: Box, b: Box) -> list[Box]:
    """``a`` minus ``b``: up to four boxes."""
    if not _overlap(a, b):
        return [a]
    out = []
    if a[1] < b[1]:
        out.append((a[0], a[1], a[2], b[1]))
    if b[3] < a[3]:
        out.append((a[0], b[3], a[2], a[3]))
    top, bottom = max(a[1], b[1]), min(a[3], b[3])
    if a[0] < b[0]:
        out.append((a[0], top, b[0], bottom))
    if b[2] < a[2]:
        out.append((b[2], top, a[2], bottom))
    return out


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
