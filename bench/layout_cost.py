"""Layout: what reading order it gives multi-column pages, and what it costs per frame.

    .venv/bin/python bench/layout_cost.py [--runs 5] [--no-browser]

1. Reading order. Chromium under Xvfb shows pages of two and three columns of generated prose
   (and two columns of Chinese); each screen is read by the real OCR, then put in order two
   ways: as lifelog stored lines before the layout step (one line per detected box, ordered by
   top, then left) and by the layout step. The figure is the share of each column's 6-word
   runs (6-character runs for Chinese) found in the text read in that order.
2. Cost. The same ScreenReader frames as ``bench/ocr_speed.py`` (a new page, a code screen, a
   scroll to lines seen before, a one-line edit) and the Chromium screens: median milliseconds
   of ``ScreenReader.read`` and of ``Layout.arrange`` on its lines, one Layout per sequence as
   the pipeline keeps one per monitor.

Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import common
import numpy as np

ROOT = common.ROOT

from lifelog.tokenize_media.ocr import ScreenReader, get_engine
from lifelog.tokenize_media.ocr.layout import Layout
from tests.support.pages import code_page, edited_line, scrolled_pair, text_page
from tests.support.web_pages import han, kept_runs, page, prose, words, zh_prose


def grab(display: str) -> np.ndarray:
    import mss
    from PIL import Image

    os.environ["DISPLAY"] = display
    with mss.MSS() if hasattr(mss, "MSS") else mss.mss() as m:
        shot = m.grab(m.monitors[1])
    return np.asarray(Image.frombytes("RGB", shot.size, shot.rgb)).copy()


def browser_screens() -> list[tuple[str, np.ndarray, list[str], object]]:
    """``(name, screen, true column texts, units)`` for the Chromium pages."""
    from tests.support.xscreen import XScreen

    cases = []
    for n in (2, 3):
        texts = [prose(100 * n + c, 7 if n == 2 else 4) for c in range(n)]
        columns = ["|".join((t[: len(t) // 2].rsplit(" ", 1)[0], t[len(t) // 2 :].split(" ", 1)[1])) for t in texts]
        cases.append((f"{n} columns of English prose", columns, "en", words))
    cases.append(
        ("2 columns of Chinese prose", [f"{zh_prose(c, 5)}|{zh_prose(c + 10, 4)}" for c in range(2)], "zh", han)
    )
    out = []
    screen = XScreen()
    try:
        for name, columns, lang, units in cases:
            with tempfile.TemporaryDirectory() as tmp:
                path = page(Path(tmp), columns, title="Harbour field notes", lang=lang)
                proc = screen.show_page(path, title="Harbour field notes", profile=Path(tmp) / "chromium")
                out.append(
                    (name, grab(screen.display), [c.replace("|", " " if lang == "en" else "") for c in columns], units)
                )
                proc.terminate()
                proc.wait(10)
                screen._windows.remove(proc)
    finally:
        screen.stop()
    return out


def reading_order(engine, screens) -> list[str]:
    rows = []
    for name, image, columns, units in screens:
        lines = engine.recognize(image)
        before = "\n".join(line.text for line in sorted(lines, key=lambda l: (l.box[1], l.box[0])))
        after = "\n".join(line.lead + line.text for line in Layout().arrange(image, lines))
        old = [kept_runs(c, before, units) for c in columns]
        new = [kept_runs(c, after, units) for c in columns]
        rows.append(
            f"| {name} | {statistics.mean(old):.2f} (min {min(old):.2f}) | "
            f"**{statistics.mean(new):.2f}** (min {min(new):.2f}) |"
        )
    return rows


def timed(frames: list[np.ndarray], engine, runs: int) -> tuple[float, float, int]:
    """Median ms of reading and of layout per frame over ``runs`` passes of ``frames`` (the
    reader and layout kept across frames, fresh for each pass), and lines per frame."""
    reads, lays, lines_n = [], [], []
    for _ in range(runs):
        reader, layout = ScreenReader(engine), Layout()
        for frame in frames:
            start = time.perf_counter()
            lines = reader.read(frame).lines
            mid = time.perf_counter()
            layout.arrange(frame, lines)
            end = time.perf_counter()
            reads.append(mid - start)
            lays.append(end - mid)
            lines_n.append(len(lines))
    return statistics.median(reads) * 1000, statistics.median(lays) * 1000, int(statistics.median(lines_n))


def timed_steady(first: np.ndarray, frames: list[np.ndarray], engine, runs: int) -> tuple[float, float, int]:
    """As ``timed``, for frames after ``first`` (read once, not counted): the steady state."""
    reader, layout = ScreenReader(engine), Layout()
    layout.arrange(first, reader.read(first).lines)
    reads, lays, lines_n = [], [], []
    for _ in range(runs):
        for frame in frames:
            start = time.perf_counter()
            lines = reader.read(frame).lines
            mid = time.perf_counter()
            layout.arrange(frame, lines)
            reads.append(mid - start)
            lays.append(time.perf_counter() - mid)
            lines_n.append(len(lines))
    return statistics.median(reads) * 1000, statistics.median(lays) * 1000, int(statistics.median(lines_n))


def cost(engine, runs: int, screens) -> list[str]:
    prose_page, code = text_page(), code_page()
    before, after = scrolled_pair(shift_lines=4)
    edits = [
        edited_line(prose_page, 5, f"The database migration touched {40 + i} tables and left {i} warnings.").image
        for i in range(runs)
    ]
    cases = [
        ("new prose page", timed([prose_page.image], engine, runs)),
        ("new code screen", timed([code.image], engine, runs)),
        ("scroll to lines seen before", timed_steady(before.image, [after.image, before.image], engine, runs)),
        (
            "one-line edit",
            timed_steady(prose_page.image, [e for edit in edits for e in (edit, prose_page.image)], engine, 1),
        ),
    ]
    cases += [(f"new page: {name}", timed([image], engine, runs)) for name, image, _, _ in screens]
    return [
        f"| {name} | {lines} | {read:.1f} | {lay:.2f} | **{lay / read:.1%}** |" for name, (read, lay, lines) in cases
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium pages (no Xvfb/Chromium here)")
    args = common.parse(parser, quick={"runs": 1, "no_browser": True})
    engine = get_engine()
    engine.recognize(text_page().image)  # warm-up
    screens = [] if args.no_browser or not shutil.which("chromium") else browser_screens()
    load = os.getloadavg()[0]
    if screens:
        print(
            "| page (Chromium 1920x1080, DejaVu Sans / Noto Sans CJK 18 px) | 6-word runs kept, before "
            "(top then left) | with layout |\n|---|---:|---:|"
        )
        print("\n".join(reading_order(engine, screens)))
        print()
    print("| frame | lines | read ms | layout ms | layout / read |\n|---|---:|---:|---:|---:|")
    print("\n".join(cost(engine, args.runs, screens)))
    print(f"\n{args.runs} runs, {os.cpu_count()} cores, load average {load:.1f} -> {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
