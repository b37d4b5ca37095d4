"""OCR speed and word recall, side by side: raw RapidOCR vs lifelog's ppocr-v4 engine and ScreenReader.

    .venv/bin/python bench/ocr_speed.py [--runs 5] [--provider auto|cpu|cuda] [--no-warm-up]

Pages are rendered with PIL (the same pages the tests use). Prints a Markdown table of
medians over ``--runs`` runs; CPU seconds are this process's user+system time per run, which
other load on a shared machine disturbs far less than wall time.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

import common

ROOT = common.ROOT

from lifelog.tokenize_media.ocr import ScreenReader, get_engine
from tests.support.pages import (
    DARK,
    code_page,
    edited_line,
    scrolled_pair,
    text_page,
    word_scores,
)


def use_provider(choice: str) -> None:
    """Pin the ONNX Runtime provider of every ppocr-v4 engine created after this call.

    "auto" keeps lifelog's choice (CUDA first when the onnxruntime build offers it). "cpu"
    runs on the CPU even under onnxruntime-gpu, so one environment can time both; it replaces
    ``providers()`` where ``onnx.open_session`` and ``ppocr.default_workers`` look it up, so
    the CPU gets its usual parallel recognition workers too. "cuda" changes nothing here:
    ``check_provider`` then refuses an engine that fell back to the CPU.
    """
    if choice != "cpu":
        return
    from lifelog.tokenize_media.ocr import onnx, ppocr

    onnx.providers = ppocr.providers = lambda: [onnx.CPU]


def check_provider(choice: str, engine) -> None:
    """Exit with a message when ``engine`` does not run on the provider asked for."""
    from lifelog.tokenize_media.ocr.onnx import CPU, CUDA

    wanted = {"cpu": CPU, "cuda": CUDA}.get(choice)
    if wanted and engine.providers[0] != wanted:
        sys.exit(f"ocr_speed: asked for {wanted}, but the OCR sessions run on {engine.providers}")


cpu_seconds = common.cpu_seconds  # this process's


def measure(fn, runs: int) -> tuple[float, float, float, object]:
    """(median wall s, min wall s, median CPU s, last result) over ``runs`` calls."""
    walls, cpus, result = [], [], None
    for i in range(runs):
        cpu, wall = cpu_seconds(), time.perf_counter()
        result = fn(i)
        walls.append(time.perf_counter() - wall)
        cpus.append(cpu_seconds() - cpu)
    return statistics.median(walls), min(walls), statistics.median(cpus), result


def raw_rapidocr(runs: int, page, warm: bool = True) -> tuple:
    from rapidocr_onnxruntime import RapidOCR

    raw = RapidOCR()
    bgr = page.image[:, :, ::-1].copy()
    if warm:
        raw(bgr)  # warm-up: first-run allocations are not what a long-running recorder pays
    *times, result = measure(lambda _: raw(bgr)[0] or [], runs)
    return (*times, word_scores(page.lines, [r[1] for r in result]))


def ours_full(runs: int, page, engine, warm: bool = True) -> tuple:
    if warm:
        engine.recognize(page.image)
    *times, lines = measure(lambda _: engine.recognize(page.image), runs)
    return (*times, word_scores(page.lines, [line.text for line in lines]))


def shipped_vs_fused(runs: int, page, warm: bool = True) -> tuple[tuple, tuple]:
    """The models as shipped vs their load-time rewritten graphs, runs interleaved A/B so
    that load on a shared machine hits both alike."""
    from lifelog.tokenize_media.ocr.ppocr import PpOcrV4

    engines = [PpOcrV4(fuse_graphs=False), PpOcrV4(fuse_graphs=True)]
    walls: list[list[float]] = [[], []]
    cpus: list[list[float]] = [[], []]
    texts: list[list[str]] = [[], []]
    for engine in engines if warm else ():
        engine.recognize(page.image)
    for _ in range(runs):
        for k, engine in enumerate(engines):
            cpu, wall = cpu_seconds(), time.perf_counter()
            lines = engine.recognize(page.image)
            walls[k].append(time.perf_counter() - wall)
            cpus[k].append(cpu_seconds() - cpu)
            texts[k] = [line.text for line in lines]
    return tuple(
        (statistics.median(walls[k]), min(walls[k]), statistics.median(cpus[k]), word_scores(page.lines, texts[k]))
        for k in range(2)
    )


def scroll_seen(runs: int, engine) -> tuple:
    """Scroll down and back between two positions whose lines the reader has already read."""
    before, after = scrolled_pair(shift_lines=4)
    reader = ScreenReader(engine)
    reader.read(before.image)
    reader.read(after.image)
    frames = [before, after]
    *times, result = measure(lambda i: reader.read(frames[i % 2].image), runs * 2)
    return (*times, word_scores(frames[(runs * 2 - 1) % 2].lines, [line.text for line in result.lines]))


def one_line_edit(runs: int, engine) -> tuple:
    """A different edit each run, so the edited line is always new to the cache."""
    page = text_page()
    reader = ScreenReader(engine)
    reader.read(page.image)
    edits = [
        edited_line(page, 5, f"The database migration touched {40 + i} tables and left {i} warnings.")
        for i in range(runs)
    ]
    results = []

    def edit(i: int):
        reader.read(page.image)
        start = time.perf_counter()
        results.append(reader.read(edits[i].image))
        return time.perf_counter() - start

    walls = [edit(i) for i in range(runs)]
    lines = results[-1].lines
    return (
        statistics.median(walls),
        min(walls),
        float("nan"),
        word_scores(edits[-1].lines, [line.text for line in lines]),
    )


def unchanged(runs: int, engine) -> tuple:
    page = text_page()
    reader = ScreenReader(engine)
    reader.read(page.image)
    *times, result = measure(lambda _: reader.read(page.image.copy()), runs)
    return (*times, word_scores(page.lines, [line.text for line in result.lines]))


def row(name: str, figures: tuple) -> str:
    wall, fastest, cpu, (recall, precision) = figures
    cpu_text = "–" if math.isnan(cpu) else f"{cpu:.2f}"
    return f"| {name} | {wall:.3f} | {fastest:.3f} | {cpu_text} | {recall:.1%} | {precision:.1%} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--provider",
        choices=["auto", "cpu", "cuda"],
        default="auto",
        help="ONNX Runtime provider for lifelog's engine (auto: CUDA when onnxruntime-gpu has it); "
        "the raw RapidOCR row always runs on the CPU",
    )
    parser.add_argument(
        "--warm-up",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="read each full page once, untimed, before its timed runs (--quick: no)",
    )
    args = common.parse(parser, quick={"runs": 1, "warm_up": False})
    use_provider(args.provider)
    engine = get_engine()
    check_provider(args.provider, engine)
    light, dark, code = text_page(), text_page(DARK), code_page()
    load = os.getloadavg()[0]
    warm = args.warm_up
    shipped, fused = shipped_vs_fused(args.runs, light, warm)
    rows = [
        row("(a) raw `RapidOCR()` defaults, full page", raw_rapidocr(args.runs, light, warm)),
        row("(b0) full new page, models as shipped (`fuse_graphs=False`)", shipped),
        row("(b0) full new page, graphs rewritten (`fuse_graphs=True`, default), A/B interleaved", fused),
        row("(b) ppocr-v4 engine, full new page", ours_full(args.runs, light, engine, warm)),
        row("(b) ppocr-v4 engine, dark page", ours_full(args.runs, dark, engine, warm)),
        row("(b) ppocr-v4 engine, code page", ours_full(args.runs, code, engine, warm)),
        row("(c) ScreenReader, scroll to lines seen before", scroll_seen(args.runs, engine)),
        row("(d) ScreenReader, one-line edit", one_line_edit(args.runs, engine)),
        row("(e) ScreenReader, unchanged frame", unchanged(args.runs, engine)),
    ]
    print(
        f"OCR on 1920x1080 rendered pages, {args.runs} runs, {os.cpu_count()} cores, "
        f"providers {engine.providers}, load average {load:.1f} -> {os.getloadavg()[0]:.1f}\n"
    )
    print("| case | median s | min s | CPU s | word recall | word precision |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
