"""Exact lines of real code read from a real screen, before and after reading it cell by cell.

    .venv/bin/python bench/code_exact.py [--chunks 8] [--runs 3]

On a private Xvfb screen, chunks of the Python standard library's own code are shown in an
xterm with a TrueType font (DejaVu Sans Mono 13), in an xterm with its default 6x13 bitmap
font, and in a Chromium ``<pre>`` (DejaVu Sans Mono 14 px); a manual page (``man ls``) in
the bitmap xterm. Each screenshot is read twice on the same pixels:

* **before**: the engine and layout as they were (``small_text_scale=None``,
  ``sharp_upscale=False``, ``Layout(by_cell=False)``),
* **cells**: small text detected again at a larger scale and scaled up sharply, monospace text
  placed cell by cell (``shown.place``), but a row whose characters and inked cells differ in
  number kept as read, and no glyph read by what the same pixels were read as elsewhere
  (``Layout(by_position=False, by_shape=False)``),
* **after**: the defaults (such a row placed by where the recogniser read each character; a
  glyph misread once read as the same pixels are in most cells).

Prints the share of non-blank lines that come back exactly (every character and space,
indentation relative to the shared one), the manual page's word recall, and the OCR time of
a new 1080p page (``bench/ocr_speed.py``'s prose page, and a bitmap-font screen) for both,
runs interleaved A/B so that load on a shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import common

ROOT = common.ROOT

from lifelog.tokenize_media.ocr.layout import Layout
from lifelog.tokenize_media.ocr.ppocr import PpOcrV4
from tests.support.code_screens import (
    ROWS,
    code,
    exact_lines,
    in_pre,
    in_xterm,
    manual_page,
    shown_text,
    word_recall,
)
from tests.support.pages import text_page
from tests.support.xscreen import XScreen


def engines() -> dict[str, tuple[PpOcrV4, dict]]:
    """The engine and the layout's options, before, cell by cell as read, and after."""
    after = PpOcrV4()
    return {
        "before": (PpOcrV4(small_text_scale=None, sharp_upscale=False), {"by_cell": False}),
        "cells": (after, {"by_position": False, "by_shape": False}),
        "after": (after, {}),
    }


def read(engine: PpOcrV4, options: dict, image, lines=None) -> list[str]:
    """The screen as shown after layout; ``lines``: the engine's lines of it, when read before."""
    return shown_text(Layout(**options).arrange(image, engine.recognize(image) if lines is None else lines))


def screens(chunks: int, with_pre: bool) -> dict[str, list]:
    """Screenshots with the lines on them, by kind; the X screen is gone when this returns."""
    screen = XScreen()
    shots: dict[str, list] = {"terminal, TrueType": [], "terminal, bitmap 6x13": [], "browser <pre>": []}
    try:
        for k in range(chunks):
            shots["terminal, TrueType"].append(
                in_xterm(screen, code(k, ROWS["truetype"]), font="truetype", title=f"tt{k}")
            )
            screen.close_windows()
            shots["terminal, bitmap 6x13"].append(
                in_xterm(screen, code(k, ROWS["bitmap"]), font="bitmap", title=f"bm{k}")
            )
            screen.close_windows()
            if with_pre:
                profile = Path(tempfile.mkdtemp(prefix="lifelog-bench-chromium-"))
                shots["browser <pre>"].append(in_pre(screen, code(k, ROWS["pre"]), title=f"pre{k}", profile=profile))
                screen.close_windows()
        shots["manual page, bitmap 6x13"] = [in_xterm(screen, manual_page(), font="bitmap", title="man")]
        screen.close_windows()
    finally:
        screen.stop()
    return shots


def exactness(shots: dict[str, list], models: dict) -> list[list]:
    rows = []
    seen: dict[tuple[int, int], list] = {}  # models sharing an engine read each screen once

    def lines(engine: PpOcrV4, k: int, image) -> list:
        return seen.setdefault((id(engine), k), engine.recognize(image))

    for kind, shown in shots.items():
        if not shown:
            continue
        cells = [kind]
        for engine, options in models.values():
            if kind.startswith("manual"):
                recall = [
                    word_recall(s.lines, read(engine, options, s.image, lines(engine, id(s), s.image))) for s in shown
                ]
                cells.append(f"{statistics.mean(recall):.3f}")
                continue
            right = total = 0
            for s in shown:
                r, t, _ = exact_lines(s.lines, read(engine, options, s.image, lines(engine, id(s), s.image)))
                right, total = right + r, total + t
            cells.append(f"{right}/{total} = {right / total:.1%}")
        rows.append(cells)
    return rows


def timing(image, models: dict, runs: int) -> list[float]:
    """Median seconds to read ``image`` as a new page (recognise + layout), per model."""
    times: list[list[float]] = [[] for _ in models]
    for engine, options in models.values():
        read(engine, options, image)  # warm-up
    for _ in range(runs):
        for k, (engine, options) in enumerate(models.values()):
            start = time.perf_counter()
            read(engine, options, image)
            times[k].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def layout_ms(image, engine: PpOcrV4, runs: int) -> tuple[float, float, float]:
    """Fastest milliseconds of layout alone on ``image``'s lines (read once): text as read,
    placed cell by cell on a new frame (a fresh Layout), and again on rows it has seen (the
    same Layout a second time, as after a scroll or on a frame that changed elsewhere)."""
    lines = engine.recognize(image)
    plain, new, seen = [], [], []
    for _ in range(max(3, runs)):
        for by_cell, into in ((False, plain), (True, new)):
            layout = Layout(by_cell=by_cell)
            start = time.perf_counter()
            layout.arrange(image, lines)
            into.append(time.perf_counter() - start)
        start = time.perf_counter()
        layout.arrange(image, lines)
        seen.append(time.perf_counter() - start)
    return min(plain) * 1000, min(new) * 1000, min(seen) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=len(ROWS) and 8, help="code screens per kind")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per page and model")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium <pre> screens")
    args = common.parse(parser, quick={"chunks": 1, "runs": 1})
    load = os.getloadavg()[0]
    shots = screens(args.chunks, not args.no_browser)
    models = engines()
    print(
        f"Exact lines of standard-library code on a 1920x1080 Xvfb screen, {args.chunks} screen(s) per kind, "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}\n"
    )
    print(common.table(["shown in", *models], exactness(shots, models)))
    page = text_page().image
    bitmap = shots["terminal, bitmap 6x13"][0].image
    prose = timing(page, models, args.runs)
    small = timing(bitmap, models, args.runs)
    print(f"\nOCR + layout of a new page, median of {args.runs} interleaved runs (load {load:.1f}):\n")
    print(
        common.table(
            ["page", *(f"{name} s" for name in models), "after / before"],
            [
                ["prose page (bench/ocr_speed.py)", *(f"{t:.2f}" for t in prose), f"{prose[-1] / prose[0]:.2f}"],
                ["terminal, bitmap 6x13", *(f"{t:.2f}" for t in small), f"{small[-1] / small[0]:.2f}"],
            ],
        )
    )
    after = models["after"][0]
    rows = []
    for kind in ("terminal, TrueType", "terminal, bitmap 6x13"):
        plain, placed, seen = layout_ms(shots[kind][0].image, after, args.runs)
        rows.append([kind, f"{plain:.1f}", f"{placed:.1f}", f"{seen:.1f}"])
    print("\nLayout alone per frame (fastest run, ms): text as read vs placed cell by cell:\n")
    print(common.table(["screen", "as read", "cell by cell, new rows", "cell by cell, rows seen"], rows))


if __name__ == "__main__":
    main()
