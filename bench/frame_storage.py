"""Frame storage per 8-hour day of scripted mixed activity: today's encoding against the compact one.

    .venv/bin/python bench/frame_storage.py [--minutes 5] [--corpus DIR] [--text]

1. Corpus. A private 1920x1080 Xvfb screen runs a scripted mix for ``--minutes``: an xterm running
   bench/workload.sh (new pages of source, lines scrolled in one at a time, typed commands), a
   full-screen Chromium page of prose scrolled by arrow keys and page-downs, a second xterm where a
   paragraph is typed, and switches between them. The real capture loop (change detection,
   keyframes, the spool format) grabs it at 2 fps with no shedding, so every changed frame is kept
   as a 2 fps recorder on an idle machine keeps it. ``--corpus DIR`` keeps the spool there and
   reuses it on the next run (delete the folder to record again).
2. Both encodings, side by side on the same frames: ``legacy`` (each changed region or keyframe as
   lossless WebP, what lifelog stored before) and ``compact`` (store/frame_codec.py: shifts,
   patches and periodic intra screens). Bytes, encode ms per frame, and the check that every
   frame's reconstructed screen equals the captured screen exactly (max pixel error 0).
3. ``--text``: the text-only cost. ``lifelog process`` OCRs the corpus into a fresh timeline; the
   DuckDB file's size (after a checkpoint) per hour of activity.

Figures are scaled from the corpus's span to an hour and to an 8-hour day (and 22 such days).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import common

ROOT = common.ROOT

from tests.support.xscreen import XScreen

PROSE = [Path("/usr/share/common-licenses/GPL-3"), Path("/usr/share/common-licenses/Apache-2.0")]
TYPED = (
    "The frame store keeps what the screen showed so a replay can show it again. Scrolling "
    "moves lines without changing them, so a scroll step costs a shift and the strip it "
    "exposes. Typing changes a few characters at a time. "
)


# -- the scripted screen ------------------------------------------------------------------------
def page(folder: Path) -> Path:
    import html

    text = "\n\n".join(p.read_text(errors="replace") for p in PROSE if p.exists()) or TYPED * 400
    paras = "".join(f"<p>{html.escape(par)}</p>" for par in text.split("\n\n") if par.strip())
    path = folder / "page.html"
    path.write_text(
        f"<!doctype html><html><head><title>reading</title><style>body{{font:18px/1.5 "
        f"'DejaVu Serif';margin:40px 18%;}}</style></head><body>{paras}</body></html>"
    )
    return path


def xdo(env: dict, *args: str) -> str:
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=20).stdout


def raise_window(env: dict, title: str) -> None:
    found = xdo(env, "search", "--onlyvisible", "--name", title).split()
    if found:
        xdo(env, "windowraise", found[0])
        xdo(env, "windowfocus", found[0])


def script(env: dict, stop: threading.Event) -> None:
    """One ~100 s cycle, repeated: terminal, browser scrolling, typing, quick switches."""

    def wait(s: float) -> bool:
        return stop.wait(s)

    while not stop.is_set():
        raise_window(env, "work")
        if wait(40):
            return
        raise_window(env, "reading")
        for _ in range(10):
            xdo(env, "key", "Down", "Down", "Down")
            if wait(1.5):
                return
        for _ in range(4):
            xdo(env, "key", "Page_Down")
            if wait(4):
                return
        raise_window(env, "typing")
        for i in range(0, 160, 8):
            xdo(env, "type", "--delay", "90", TYPED[i : i + 8])
            if wait(0.2):
                return
        xdo(env, "key", "Return")
        for title in ("work", "reading", "work", "typing"):
            raise_window(env, title)
            if wait(2.5):
                return


def start_windows(screen: XScreen, folder: Path) -> list[subprocess.Popen]:
    env = screen.env
    screen.show_page(page(folder), title="reading", profile=folder / "chromium")
    procs = [
        subprocess.Popen(
            [
                "xterm",
                "-geometry",
                "200x50+0+0",
                "-fa",
                "DejaVu Sans Mono",
                "-fs",
                "12",
                "-T",
                "work",
                "-xrm",
                "XTerm*allowTitleOps: false",
                "-e",
                "sh",
                str(ROOT / "bench" / "workload.sh"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    procs.append(
        subprocess.Popen(
            [
                "xterm",
                "-geometry",
                "110x24+420+300",
                "-fa",
                "DejaVu Sans Mono",
                "-fs",
                "12",
                "-T",
                "typing",
                "-xrm",
                "XTerm*allowTitleOps: false",
                "-e",
                "cat",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    time.sleep(3)
    return procs


def record(spool: Path, minutes: float) -> None:
    """Capture the scripted mix into ``spool`` with the real capture loop, never shedding."""
    from lifelog.capture.loop import COUNTERS, CaptureLoop, CaptureSettings

    screen = XScreen()
    os.environ["DISPLAY"] = screen.display
    work = Path(tempfile.mkdtemp(prefix="frames."))
    procs = start_windows(screen, work)
    stop = threading.Event()
    driver = threading.Thread(target=script, args=(screen.env, stop), daemon=True)
    try:
        spool.mkdir(parents=True, exist_ok=True)
        counters = [0] * len(COUNTERS)
        loop = CaptureLoop(spool, CaptureSettings(spool_max_frames=10**9), counters)
        driver.start()
        loop.run(stop, deadline=time.monotonic() + minutes * 60)
        print("capture:", dict(zip(COUNTERS, counters)), file=sys.stderr)
    finally:
        stop.set()
        driver.join(10)
        for p in procs:
            p.terminate()
        screen.stop()
        shutil.rmtree(work, ignore_errors=True)


# -- both encodings on the corpus --------------------------------------------------------------
def frames(spool_dir: Path):
    from lifelog import spool

    for path in sorted(spool_dir.glob("*.png")):
        yield path, spool.read_frame(path)


def encode_all(spool_dir: Path, out: Path) -> dict:
    """Store every corpus frame in both formats, as the pipeline does; check the compact one
    decodes to the captured screen, frame by frame."""
    import numpy as np

    from lifelog.store import frame_codec as codec
    from lifelog.store.images import FrameImages

    legacy, compact = FrameImages(out / "legacy"), FrameImages(out / "compact")
    ms = {"legacy": [], "compact": []}
    kinds: dict[str, int] = {}
    screens: dict[int, np.ndarray] = {}
    decoded: dict[str, np.ndarray] = {}
    worst, refs = 0, []
    for path, f in frames(spool_dir):
        day = f.ts.strftime("%Y-%m-%d")
        t = time.perf_counter()
        legacy.save(path.name, day, f.image)
        ms["legacy"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        ref = compact.save(path.name, day, f.image, monitor=f.monitor, region=f.region, size=(f.width, f.height))
        ms["compact"].append((time.perf_counter() - t) * 1000)
        refs.append((ref, f))
        screen = screens.setdefault(f.monitor, np.zeros((f.height, f.width, 3), np.uint8))
        left, top, right, bottom = f.region
        screen[top:bottom, left:right] = f.image
        frame = codec.loads((out / "compact" / ref).read_bytes())
        kinds[frame.kind] = kinds.get(frame.kind, 0) + 1
        base = decoded.get(frame.base) if frame.base else decoded.get(refs[-2][0]) if len(refs) > 1 else None
        if frame.base and base is None:
            base = compact.screen(frame.base)
        decoded[ref] = codec.apply(frame, None if frame.kind == "intra" else base)
        worst = max(worst, int(np.abs(decoded[ref].astype(int) - screen.astype(int)).max()))
        if len(decoded) > 8:  # keep the last few screens: most frames are built on the one before
            decoded.pop(next(iter(decoded)))
    return {
        "frames": len(refs),
        "kinds": kinds,
        "max_pixel_error": worst,
        "ms": ms,
        "bytes": {"legacy": legacy.total_bytes(), "compact": compact.total_bytes()},
        "decode_ms": decode_times(compact, [r for r, _ in refs]),
    }


def decode_times(images, refs: list[str], sample: int = 12) -> dict:
    """Rebuilding a whole screen from its chain, for frames spread over the corpus."""
    import statistics

    from lifelog.store import frame_codec as codec

    picks = [refs[int(i * (len(refs) - 1) / max(1, sample - 1))] for i in range(sample)] if refs else []
    times = []
    for ref in picks:
        if codec.loads((images.root / ref).read_bytes()).kind == "patch":
            continue  # pasted over the screen before it, as the old format: no chain of its own
        t = time.perf_counter()
        images.screen(ref)
        times.append((time.perf_counter() - t) * 1000)
    return {"median": statistics.median(times) if times else 0, "max": max(times, default=0)}


def report_text(t: dict, minutes: float) -> None:
    per_day = 60 / minutes * 8
    grown = t["db_bytes"] - t["db_bytes_after_each_part"][0]
    growth_day = grown / max(1.0, t["later_parts_s"]) * 8 * 3600
    print(
        f"text only (lifelog process, {t['process_s']:.0f} s): {t['spans']} spans, {t['span_text_bytes']} bytes of "
        f"span text = {t['span_text_bytes'] * per_day / 1e6:.2f} MB per 8-hour day; database "
        f"{t['db_bytes'] / 2**20:.2f} MiB ({t['empty_db_bytes'] / 2**20:.2f} MiB empty), after each part "
        f"{[round(b / 2**20, 2) for b in t['db_bytes_after_each_part']]} MiB: growth over the later parts "
        f"{growth_day / 1e6:.1f} MB per 8-hour day; frames through the real pipeline "
        f"{t['pipeline_frame_bytes'] * 60 / minutes / 1e6:.1f} MB/hour"
    )
    print(json.dumps(t))


# -- text only ----------------------------------------------------------------------------------
def text_cost(spool_dir: Path, parts: int = 2) -> dict:
    """OCR the corpus into a fresh timeline with ``lifelog process``, in ``parts`` chronological
    parts; the database's size (checkpointed) after each, the text it holds, and an empty
    timeline's size. DuckDB grows in 256 KiB blocks per table, so the growth from the first part's
    end to the last's is the figure to scale, not the file over the empty floor."""
    import duckdb

    from lifelog.paths import Paths
    from lifelog.store import Store

    paths = Paths(Path(tempfile.mkdtemp(prefix="frame-text.")) / "home")
    files = sorted(spool_dir.glob("*.png"))
    try:
        store = Store(paths.db)
        store.migrate()
        store.close()
        sizes, seconds = [paths.db.stat().st_size], 0.0
        paths.spool.mkdir(parents=True, exist_ok=True)
        for k in range(parts):
            for p in files[k * len(files) // parts : (k + 1) * len(files) // parts]:
                shutil.copy2(p, paths.spool / p.name)
            t = time.perf_counter()
            subprocess.run(
                [str(Path(sys.executable).parent / "lifelog"), "process", "--json"],
                check=True,
                env={**os.environ, "LIFELOG_HOME": str(paths.home)},
                capture_output=True,
                text=True,
            )
            seconds += time.perf_counter() - t
            with duckdb.connect(str(paths.db)) as con:
                con.execute("CHECKPOINT")
                spans, text = con.execute("SELECT count(*), coalesce(sum(strlen(text)), 0) FROM text_spans").fetchone()
            sizes.append(paths.db.stat().st_size)
        frames = sum(p.stat().st_size for p in paths.frames.rglob("*") if p.is_file())
        first_end = _ts(files[len(files) // parts - 1])
        later_s = (_ts(files[-1]) - first_end).total_seconds()
        return {
            "db_bytes": sizes[-1],
            "empty_db_bytes": sizes[0],
            "db_bytes_after_each_part": sizes[1:],
            "later_parts_s": later_s,
            "spans": spans,
            "span_text_bytes": text,
            "pipeline_frame_bytes": frames,
            "process_s": seconds,
        }
    finally:
        shutil.rmtree(paths.home.parent, ignore_errors=True)


def _ts(path: Path):
    from datetime import datetime

    return datetime.strptime(path.name.split("-")[0], "%Y%m%dT%H%M%S%f")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--text", action="store_true", help="also OCR the corpus into a timeline (slow)")
    args = common.parse(ap, quick={"minutes": 0.05})
    corpus = args.corpus or Path(tempfile.mkdtemp(prefix="frame-corpus."))
    spool = corpus / "spool"
    if not spool.is_dir() or not any(spool.glob("*.png")):
        record(spool, args.minutes)
        (corpus / "minutes").write_text(str(args.minutes))
    out = Path(tempfile.mkdtemp(prefix="frame-stores."))
    try:
        result = encode_all(spool, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    minutes = float((corpus / "minutes").read_text()) if (corpus / "minutes").exists() else args.minutes
    report(result, minutes)
    if args.text:
        report_text(text_cost(spool), minutes)


def report(r: dict, minutes: float) -> None:
    import statistics

    per_hour = 60 / minutes
    print(
        f"corpus: {r['frames']} frames kept in {minutes:g} min of scripted mixed activity at 2 fps "
        f"(compact kinds: {r['kinds']}); compact decodes exactly: max pixel error {r['max_pixel_error']}"
    )
    for name in ("legacy", "compact"):
        mb_h = r["bytes"][name] * per_hour / 1e6
        ms = sorted(r["ms"][name])
        print(
            f"{name:8s} {mb_h:7.1f} MB/hour  {mb_h * 8:7.0f} MB per 8-hour day  {mb_h * 8 * 22 / 1e3:5.2f} GB per "
            f"22 days   encode ms/frame median {statistics.median(ms):.1f}, p90 {ms[int(0.9 * (len(ms) - 1))]:.1f}"
        )
    print(
        f"ratio {r['bytes']['legacy'] / max(1, r['bytes']['compact']):.2f}x; rebuilding a whole screen from "
        f"its chain: median {r['decode_ms']['median']:.0f} ms, max {r['decode_ms']['max']:.0f} ms"
    )
    print(json.dumps({k: v for k, v in r.items() if k != "ms"}))


if __name__ == "__main__":
    main()
