"""Storage and tokens per hour of active screen use, measured with the real recorder.

    .venv/bin/python bench/activity.py [--minutes 5]

A 1920x1080 Xvfb screen shows an xterm running bench/workload.sh (new pages of source code,
line-by-line scrolling, typed commands). ``lifelog record`` runs for the given time; the
figures are scaled to one hour:
- storage: frame images + DuckDB file, MB per hour;
- tokens: the o200k count of ``lifelog context`` over the whole session with no budget cut,
  against raw screenshots at 2 fps x 250 tokens = 1.8M tokens per hour.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

ROOT = common.ROOT

from lifelog.tokenize_media.tokenizers import get_tokenizer
from tests.support.xscreen import XScreen

RAW_TOKENS_PER_HOUR = 2 * 3600 * 250


def lifelog(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lifelog.cli.app", *args], env=env, capture_output=True, text=True, check=True
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=5)
    args = common.parse(ap, quick={"minutes": 0.05})
    screen = XScreen()
    home = Path(tempfile.mkdtemp()) / "home"
    env = {**screen.env, "LIFELOG_HOME": str(home)}
    work = subprocess.Popen(
        [
            "xterm",
            "-geometry",
            "200x60+0+0",
            "-fa",
            "DejaVu Sans Mono",
            "-fs",
            "12",
            "-T",
            "work",
            "-e",
            "sh",
            str(ROOT / "bench" / "workload.sh"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)
        subprocess.run(["xdotool", "search", "--name", "work", "windowfocus"], env=env, capture_output=True)
        t0 = time.monotonic()
        summary = json.loads(lifelog("record", "--duration", f"{args.minutes}m", "--json", env=env).stdout)
        wall = time.monotonic() - t0
    finally:
        work.terminate()
        screen.stop()
    status = json.loads(lifelog("status", "--json", env=env).stdout)
    ctx = lifelog("context", "--since", "1d", "--budget", "10M", env=env).stdout  # the largest window (10M)
    hours = summary["seconds"] / 3600
    tokens = get_tokenizer("o200k").count(ctx)
    images_mb = status["frame_image_bytes"] / 1e6
    db_mb = status["db_bytes"] / 1e6
    print(
        f"session: {summary['seconds']:.0f}s recorded, {wall - summary['seconds']:.0f}s to drain the backlog at stop; "
        f"{summary['frames_kept']} frames kept, {summary['frames_skipped']} skipped, "
        f"{status['text_spans']} text spans, {summary['ocr_failures']} OCR failures\n"
    )
    print("| measure | per hour of active use |\n|---|---|")
    print(f"| frame images (lossless WebP, changed regions + keyframes) | {images_mb / hours:,.0f} MB |")
    print(f"| DuckDB timeline | {db_mb / hours:,.1f} MB |")
    print(f"| total storage | {(images_mb + db_mb) / hours:,.0f} MB |")
    print(f"| context window tokens (o200k, everything, no cut) | {tokens / hours:,.0f} |")
    print(f"| raw screenshots at 2 fps x 250 tokens | {RAW_TOKENS_PER_HOUR:,} |")
    print(f"| reduction | {RAW_TOKENS_PER_HOUR / max(1, tokens / hours):,.0f}x |")


if __name__ == "__main__":
    main()
