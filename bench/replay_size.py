"""The size of a replay page (``lifelog replay``) for dense activity, and how long it takes.

    .venv/bin/python bench/replay_size.py [--minutes 15] [--change-s 1]

A timeline is generated with a screen change every ``--change-s`` seconds for ``--minutes``, in
scenes of 5 minutes that take turns: an editor of code (light, 18 px text filling the screen, a
line typed and the file scrolled by a line at each change), a terminal (dark, a log scrolled a
line at each change) and a page of prose (light, scrolled). Each frame is stored as the pipeline
stores it (``FrameImages.save``: shifts and patches on the screen before, whole screens now and
then) with its lines as spans. Dense by design: every frame is a screen full of text and every
second changes it, the worst case for the page's bytes.

The page is built with the default sampling (past 600 frames, one per 10 s), as the command
builds it; printed: frames stored and kept, page bytes, bytes per kept frame, the page's bytes
per hour of such activity (kept frames scale with the hour: 360 an hour) and the build time.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta

import common
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lifelog.models import FrameRecord, OcrLine
from lifelog.paths import Paths
from lifelog.replay.html import open_page
from lifelog.store import Store
from lifelog.store.images import FrameImages

W, H = 1920, 1080
ROW, ROWS = 21, 50  # 18 px text, a screen full of it
START = datetime(2026, 11, 24, 9, 0, 0)
SCENE_S = 300
WORDS = (
    "the frame store keeps what the screen showed so that a replay can show it again while "
    "scrolling moves lines without changing them and typing changes a few characters at a time"
).split()


def line(scene: int, i: int) -> str:
    if scene == 0:
        return f"{i:4d}  def handler_{i}(request, retries={i % 7}):  return dispatch(request.path, timeout={i % 30})"
    if scene == 1:
        return f"2026-11-24 09:{i // 60 % 60:02d}:{i % 60:02d} INFO  worker-{i % 8} served GET /api/items/{i} in {i % 97} ms"
    return " ".join(WORDS[(i + k) % len(WORDS)] for k in range(18))


def screen(scene: int, step: int, font) -> tuple[np.ndarray, list[str]]:
    """The scene's screen ``step`` changes in: its lines scrolled by one per step, the last typed."""
    dark = scene == 1
    image = Image.new("RGB", (W, H), (0, 0, 0) if dark else (250, 250, 250))
    pen = ImageDraw.Draw(image)
    lines = [line(scene, step + k) for k in range(ROWS)]
    lines[-1] = lines[-1][: 10 + step % 60]  # a line being typed
    for k, text in enumerate(lines):
        pen.text((16, 6 + ROW * k), text, fill=(230, 230, 230) if dark else (20, 20, 20), font=font)
    return np.asarray(image).copy(), lines


def generate(paths: Paths, minutes: float, change_s: float) -> int:
    store = Store(paths.db)
    store.migrate()
    images = FrameImages(paths.frames)
    font = ImageFont.load_default(size=18)
    apps = [("code", "handlers.py"), ("XTerm", "tail -f server.log"), ("firefox", "Notes")]
    n = int(minutes * 60 / change_s)
    with store.write() as w:
        for i in range(n):
            ts = START + timedelta(seconds=i * change_s)
            scene = int(i * change_s // SCENE_S) % 3
            pixels, lines = screen(scene, i, font)
            ref = images.save(
                f"{ts:%H%M%S%f}-1.spool", f"{ts:%Y-%m-%d}", pixels, monitor=1, region=(0, 0, W, H), size=(W, H)
            )
            app, title = apps[scene]
            fid = w.add_frame(FrameRecord(ts, 1, W, H, app, title, ref, (0, 0, W, H), i == 0))
            boxes = [(16, 6 + ROW * k, 1800, 6 + ROW * k + 18) for k in range(ROWS)]
            w.observe_lines(fid, ts, 1, app, title, [OcrLine(t, b) for t, b in zip(lines, boxes)])
        w.close_spans(START + timedelta(seconds=n * change_s))
    store.close()
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--change-s", type=float, default=1.0)
    args = common.parse(parser, {"minutes": 0.1, "change_s": 1.0})
    paths = Paths(common.scratch("replay_size") / "home").ensure()
    started = time.perf_counter()
    stored = generate(paths, args.minutes, args.change_s)
    generated = time.perf_counter() - started
    store = Store(paths.db)
    started = time.perf_counter()
    page = open_page(store, FrameImages(paths.frames), START, START + timedelta(minutes=args.minutes), None)
    size = sum(len(chunk) for chunk in page.chunks)
    page.close()
    built = time.perf_counter() - started
    store.close()
    kept = page.counts["frames"]
    per_hour = size / max(kept, 1) * min(3600 / max(args.change_s, 1e-9), 360)
    print("| minutes | frames stored | kept | page MB | kB per kept frame | MB per hour (360 frames) | build s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {args.minutes:g} | {stored:,} | {kept:,} | {size / 1e6:.1f} | {size / max(kept, 1) / 1e3:.0f} | "
        f"{per_hour / 1e6:.0f} | {built:.1f} |"
    )
    print(f"(generating the timeline took {generated:.0f} s; {page.note or 'every frame kept'})")


if __name__ == "__main__":
    main()
