"""Real source code shown on a real X screen, and how much of it OCR gives back exactly.

The code is the Python standard library's own (``sysconfig``'s stdlib folder: real code nobody
here wrote), shown in an xterm with a TrueType font (DejaVu Sans Mono 13), in an xterm with its
default font (the 6x13 bitmap a new user gets), or in Chromium as a ``<pre>`` in a monospace
font (an editor-like view). ``exact_lines`` scores what came back line by line: a line counts
only when every character and every space is right. Used by ``tests/tokenize_media/
test_ocr_code_exact.py`` and ``bench/code_exact.py``.
"""

from __future__ import annotations

import difflib
import html
import re
import subprocess
import sysconfig
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support.xscreen import ProgramExited, XScreen

# (module, first line): chunks of ordinary code with indentation, underscores, quotes and
# docstrings. Each chunk is read from the running Python's own standard library.
CHUNKS = (
    ("textwrap.py", 100),
    ("dataclasses.py", 400),
    ("functools.py", 30),
    ("enum.py", 200),
    ("argparse.py", 600),
    ("inspect.py", 900),
    ("pathlib.py", 300),
    ("subprocess.py", 1000),
)
# Rows that fit a 1920x1080 screen: xterm's DejaVu Sans Mono 13 sets a row every 22 px,
# its 6x13 bitmap font every 13 px, the <pre> below every 20 px.
ROWS = {"truetype": 46, "bitmap": 78, "pre": 50}
MAX_WIDTH = 150


@dataclass
class Shown:
    """A screenshot (RGB) and the lines that were on it."""

    image: np.ndarray
    lines: list[str]


def code(chunk: int, rows: int) -> list[str]:
    """``rows`` lines of the standard library's code from ``CHUNKS[chunk]``, tabs expanded,
    trailing spaces dropped, long lines (which a terminal would wrap) cut."""
    name, start = CHUNKS[chunk % len(CHUNKS)]
    text = (Path(sysconfig.get_paths()["stdlib"]) / name).read_text(encoding="utf-8")
    return [line.rstrip()[:MAX_WIDTH].rstrip() for line in text.expandtabs().splitlines()[start : start + rows]]


def manual_page(rows: int = ROWS["bitmap"]) -> list[str]:
    """The first ``rows`` lines of ``man ls`` as plain text, 100 columns wide."""
    done = subprocess.run(
        "MANWIDTH=100 man -P cat ls 2>/dev/null | col -b",
        shell=True,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MAN_KEEP_FORMATTING": "0"},
    )
    lines = [line.rstrip() for line in done.stdout.splitlines()]
    return lines[:rows]


def grab(screen: XScreen) -> np.ndarray:
    """The whole X screen as RGB."""
    import mss

    with mss.MSS(display=screen.display) if hasattr(mss, "MSS") else mss.mss(display=screen.display) as shot:
        return np.asarray(shot.grab(shot.monitors[1]))[:, :, 2::-1].copy()


def in_xterm(screen: XScreen, lines: list[str], *, font: str, title: str) -> Shown:
    """``lines`` printed in an xterm at the top left: ``font`` "truetype" (DejaVu Sans Mono
    13) or "bitmap" (xterm's default font); the screen grabbed once the text is drawn."""
    path = Path(tempfile.mkdtemp(prefix="lifelog-code-")) / "shown.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = len(lines) + 1
    args = ["xterm", "-geometry", f"{MAX_WIDTH + 4}x{rows}+0+0", "-T", title, "-xrm", "XTerm*allowTitleOps: false"]
    if font == "truetype":
        args += ["-fa", "DejaVu Sans Mono", "-fs", "13"]
    args += ["-e", "sh", "-c", f"cat '{path}'; exec sleep 100000"]
    for attempt in (1, 2, 3):
        proc = subprocess.Popen(args, env=screen.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        screen._windows.append(proc)
        try:
            screen._focus(title, proc)
            break
        except ProgramExited:  # an xterm on a loaded machine sometimes exits before it maps
            if attempt == 3:
                raise
    time.sleep(0.5)
    return Shown(grab(screen), lines)


def in_pre(screen: XScreen, lines: list[str], *, title: str, profile: Path) -> Shown:
    """``lines`` in Chromium as a ``<pre>`` (DejaVu Sans Mono 14 px, dark grey on white)."""
    page = Path(tempfile.mkdtemp(prefix="lifelog-pre-")) / "code.html"
    page.write_text(
        f'<html><head><meta charset="utf-8"><title>{title}</title><style>'
        "body { margin: 16px; background: #fff; } pre { font-family: 'DejaVu Sans Mono', monospace;"
        " font-size: 14px; line-height: 20px; color: #1e1e1e; margin: 0; }"
        f"</style></head><body><pre>{html.escape(chr(10).join(lines))}</pre></body></html>",
        encoding="utf-8",
    )
    screen.show_page(page, title=title, profile=profile)
    return Shown(grab(screen), lines)


def shown_text(lines) -> list[str]:
    """OCR lines (after layout) as shown: lead (without its blank line) and text, with the
    indentation they all share removed."""
    return textwrap.dedent("\n".join(line.lead.lstrip("\n") + line.text for line in lines)).splitlines()


def exact_lines(truth: list[str], got: list[str]) -> tuple[int, int, list[tuple[str, str]]]:
    """``(lines exactly right, non-blank lines shown, misses)``: the non-blank true lines
    (their shared indentation removed) matched in order against what came back; a miss is
    ``(true line, what came back in its place or "")``."""
    want = [line for line in textwrap.dedent("\n".join(truth)).splitlines() if line.strip()]
    matcher = difflib.SequenceMatcher(None, want, got, autojunk=False)
    right = sum(block.size for block in matcher.get_matching_blocks())
    misses = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            for k in range(i2 - i1):
                misses.append((want[i1 + k], got[j1 + k] if j1 + k < j2 else ""))
    return right, len(want), misses


def word_recall(truth: list[str], got: list[str]) -> float:
    """Share of the true words (runs of non-space characters, with their counts) that came back."""
    want = Counter(re.findall(r"\S+", "\n".join(truth)))
    have = Counter(re.findall(r"\S+", "\n".join(got)))
    return sum(min(n, have[w]) for w, n in want.items()) / max(1, sum(want.values()))
