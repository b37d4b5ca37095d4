"""Speech recognition speed and accuracy: every ASR engine side by side on ~30 s of espeak-ng speech.

    .venv/bin/python bench/asr_rtf.py [--runs 5] [--all] [--device cpu|cuda]

Real-time factor (RTF) = processing seconds / audio seconds, the median of ``--runs`` timed
runs after one warm-up. Word accuracy = 1 - WER against the text that was spoken;
agreement = 1 - WER against the reference engine (openai-whisper). Goals on CPU:
faster-whisper RTF <= 0.1, openai-whisper RTF <= 0.3. Prints a Markdown table.
``--device cuda`` runs every engine on the GPU (faster-whisper's default there is float16;
openai-whisper then needs a CUDA build of torch).
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

from lifelog.tokenize_media.asr import get_asr
from lifelog.tokenize_media.asr.base import SAMPLE_RATE
from lifelog.tokenize_media.asr.faster import FasterWhisperEngine
from lifelog.tokenize_media.asr.openai import OpenAIWhisperEngine
from lifelog.tokenize_media.asr.speech import transcribe_speech
from tests.support.speech import (
    SENTENCES,
    joined,
    normalise,
    place,
    speech_samples,
    word_accuracy,
    word_errors,
)

GOALS = {"faster-whisper": 0.1, "openai-whisper": 0.3}


def cuda_report() -> str:
    parts = []
    try:
        import ctranslate2

        parts.append(f"ctranslate2 CUDA devices: {ctranslate2.get_cuda_device_count()}")
    except ImportError:
        parts.append("ctranslate2 not installed")
    try:
        import torch

        parts.append(f"torch.cuda.is_available(): {torch.cuda.is_available()} (torch {torch.__version__})")
    except ImportError:
        parts.append("torch not installed")
    return "; ".join(parts)


def timed(fn, audio, runs: int) -> tuple[list[float], object]:
    """One warm-up call, then ``runs`` timed calls of ``fn(audio)``; the timings and the last result."""
    result = fn(audio)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn(audio)
        times.append(time.perf_counter() - start)
    return times, result


def variants(everything: bool, device: str = "cpu"):
    """(label, engine id for the goal, factory) for each configuration measured on ``device``."""
    default = "float16" if device == "cuda" else "int8"  # FasterWhisperEngine's own choice per device
    slow = [
        ("openai-whisper float32 beam 5", "openai-whisper", lambda: OpenAIWhisperEngine(device=device, beam_size=5))
    ]
    return [
        (
            f"faster-whisper {default} beam 5 (default)",
            "faster-whisper",
            lambda: get_asr("faster-whisper", device=device),
        ),
        (f"faster-whisper {default} greedy", "faster-whisper", lambda: FasterWhisperEngine(device=device, beam_size=1)),
        (
            "faster-whisper float32 greedy",
            "faster-whisper",
            lambda: FasterWhisperEngine(device=device, compute_type="float32", beam_size=1),
        ),
        ("openai-whisper float32 greedy (default)", "openai-whisper", lambda: get_asr("openai-whisper", device=device)),
    ] + (slow if everything else [])


def measure(label: str, goal_id: str, factory, audio, text: str, runs: int) -> dict:
    """Load one configuration and time it; ``factory`` returns an engine or a transcribe function."""
    start = time.perf_counter()
    transcribe = factory()
    load = time.perf_counter() - start
    transcribe = getattr(transcribe, "transcribe", transcribe)
    times, segments = timed(transcribe, audio, runs)
    print(f"  {label}: {joined(segments)}", file=sys.stderr)
    said = joined(segments)
    return {
        "label": label,
        "goal": GOALS[goal_id],
        "load": load,
        "times": times,
        "accuracy": word_accuracy(text, said),
        "words": normalise(said),
    }


def bench(args, work: Path) -> None:
    text = " ".join(SENTENCES[: args.sentences])
    speech = speech_samples(text, work)
    audio = place(speech, at=0.5, total=speech.size / SAMPLE_RATE + 1.0)
    seconds = audio.size / SAMPLE_RATE
    print(f"audio: {seconds:.1f} s of espeak-ng speech, {len(normalise(text))} words; {os.cpu_count()} CPUs")
    print(cuda_report())
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"device: {args.device}")
    rows = [measure(*variant, audio, text, args.runs) for variant in variants(args.all, args.device)]
    pipeline = get_asr("faster-whisper", device=args.device)
    label = "faster-whisper default + VAD + hygiene"
    rows.append(
        measure(label, "faster-whisper", lambda: lambda a: transcribe_speech(pipeline, a), audio, text, args.runs)
    )
    reference = next(r["words"] for r in rows if r["label"].startswith("openai-whisper float32 greedy"))
    print_table(rows, reference, seconds, args.runs)
    print(f"\nload average after: {os.getloadavg()[0]:.1f} (other processes share these {os.cpu_count()} CPUs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--all", action="store_true", help="also time openai-whisper with beam search (slow)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where every engine runs")
    parser.add_argument("--sentences", type=int, default=len(SENTENCES), help="how many of the sentences to speak")
    args = common.parse(parser, quick={"runs": 1, "sentences": 1})
    with tempfile.TemporaryDirectory(prefix="asr-bench-") as tmp:
        os.environ.setdefault("LIFELOG_HOME", str(Path(tmp) / "home"))  # the converted checkpoint goes here
        bench(args, Path(tmp))


def print_table(rows: list[dict], reference: list[str], seconds: float, runs: int) -> None:
    print(
        f"\n| engine | load s | RTF median of {runs} | RTF min–max | goal | word accuracy | agreement with openai-whisper |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        rtf = [t / seconds for t in row["times"]]
        agree = 1 - word_errors(reference, row["words"]) / len(reference)
        mark = "met" if statistics.median(rtf) <= row["goal"] else "MISSED"
        print(
            f"| {row['label']} | {row['load']:.1f} | {statistics.median(rtf):.3f} | {min(rtf):.3f}–{max(rtf):.3f} "
            f"| ≤ {row['goal']} {mark} | {row['accuracy']:.1%} | {agree:.1%} |"
        )


if __name__ == "__main__":
    main()
