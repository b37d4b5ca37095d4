"""Whisper models side by side on English and Mandarin: speed, memory and accuracy of tiny.en vs
base (vs small).

    .venv/bin/python bench/asr_languages.py [--runs 5] [--engines faster-whisper,openai-whisper]

English: the 8 espeak-ng sentences of bench/asr_rtf.py (~32 s), and a real English voice
(../shared/testdata/speech-en/test-2.mp3, 17.5 s). Mandarin: the two real clips in
../shared/testdata/speech-zh (13 s, FunASR's test clips), converted to Simplified before
scoring. Memory: each model loaded and run on every clip in a process of its own, its peak RSS
(VmHWM) beside a process that imports the same modules and loads no model. Each run times every model on each language in turn (interleaved, so a busy machine
slows all alike); figures are medians after one warm-up. RTF = wall seconds / audio seconds;
CPU RTF = CPU seconds of the process (all threads) / audio seconds, less disturbed by other
load. Accuracy: English 1 - WER; Mandarin character recall (longest common subsequence).
A model that cannot be loaded (small: its wheels hold an incomplete file) is reported as such.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

ROOT = common.ROOT

from lifelog.errors import LifelogError
from lifelog.tokenize_media.asr import get_asr
from lifelog.tokenize_media.asr.audio_io import decode_audio
from lifelog.tokenize_media.asr.base import SAMPLE_RATE
from lifelog.tokenize_media.asr.script import to_script
from lifelog.tokenize_media.asr.speech import transcribe_speech
from tests.support.speech import REAL_ENGLISH, SENTENCES, SPEECH_EN, joined, place, speech_samples, word_accuracy
from tests.support.speech_zh import MANDARIN, SPEECH_ZH, char_recall

MODELS = ("tiny.en", "base", "small")


def load(engine_id: str, model: str):
    start = time.perf_counter()
    try:
        return get_asr(engine_id, model=model, device="cpu"), time.perf_counter() - start
    except LifelogError as exc:
        return str(exc), 0.0


def run(engine, clips: list) -> tuple[float, float, list]:
    """Wall and CPU seconds to transcribe every clip (VAD, Whisper, hygiene), and the segments."""
    wall, cpu = time.perf_counter(), time.process_time()
    segments = [transcribe_speech(engine, audio) for audio in clips]
    return time.perf_counter() - wall, time.process_time() - cpu, segments


def score(language: str, segments: list, reference: str) -> tuple[float, str]:
    if language.startswith("English"):
        said = " ".join(joined(s) for s in segments)
        return word_accuracy(reference, said), said
    said = "".join(joined(to_script(s, "simplified")) for s in segments)
    return char_recall(reference, said), said


def bench(args, work: Path) -> None:
    text = " ".join(SENTENCES[: args.sentences])
    speech = speech_samples(text, work)
    languages = {
        "English": ([place(speech, at=0.5, total=speech.size / SAMPLE_RATE + 1.0)], text),
        "English (real voice)": (
            [decode_audio(SPEECH_EN / name) for name in REAL_ENGLISH],
            " ".join(REAL_ENGLISH.values()),
        ),
        "Mandarin": ([decode_audio(SPEECH_ZH / name) for name in MANDARIN], "".join(MANDARIN.values())),
    }
    seconds = {lang: sum(a.size for a in clips) / SAMPLE_RATE for lang, (clips, _) in languages.items()}
    print(
        f"audio: English {seconds['English']:.1f} s (espeak-ng, {len(text.split())} words); Mandarin "
        f"{seconds['Mandarin']:.1f} s (2 real clips); {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}"
    )
    engines = {}
    for engine_id in args.engines.split(","):
        for model in args.models.split(","):
            engine, took = load(engine_id, model)
            engines[(engine_id, model)] = engine
            print(
                f"  {engine_id} {model}: " + (f"loaded in {took:.1f} s" if took else f"not loaded: {engine}"),
                file=sys.stderr,
            )
    ready = {k: e for k, e in engines.items() if not isinstance(e, str)}
    times = {(k, lang): [] for k in ready for lang in languages}
    results = {}
    for i in range(args.runs + 1):  # run 0 warms up
        for key, engine in ready.items():
            for lang, (clips, reference) in languages.items():
                wall, cpu, segments = run(engine, clips)
                if i:
                    times[(key, lang)].append((wall, cpu))
                results[(key, lang)] = score(lang, segments, reference) + (
                    sorted({s.language for seg in segments for s in seg}),
                )
    print(f"load average after: {os.getloadavg()[0]:.1f}\n")
    print("| engine | model | peak RSS MiB (a process of its own) | of which the model and its run |")
    print("|---|---|---:|---:|")
    base = peak_rss("faster-whisper", "")
    for engine_id, model in ready:
        peak = peak_rss(engine_id, model)
        print(f"| {engine_id} | {model} | {peak:,.0f} | {peak - base:,.0f} |")
    print()
    print("| engine | model | language | RTF | CPU RTF | accuracy | detected | heard |")
    print("|---|---|---|---:|---:|---:|---|---|")
    for (engine_id, model), engine in engines.items():
        if isinstance(engine, str):
            print(f"| {engine_id} | {model} | – | – | – | – | – | not loaded: {engine.split('.')[0]} |")
            continue
        for lang in languages:
            walls, cpus = zip(*times[((engine_id, model), lang)])
            accuracy, said, detected = results[((engine_id, model), lang)]
            print(
                f"| {engine_id} {engine.compute_type} | {model} | {lang} | {statistics.median(walls) / seconds[lang]:.3f} "
                f"| {statistics.median(cpus) / seconds[lang]:.3f} | {accuracy:.1%} | {', '.join(detected) or '–'} "
                f"| {said[:48]} |"
            )


def peak_rss(engine_id: str, model: str) -> float:
    """Peak RSS (MiB) of a process that imports the engine's modules and, unless ``model`` is "",
    loads ``model`` and transcribes every clip of this bench once."""
    child = subprocess.run(
        [sys.executable, __file__, "--rss-of", f"{engine_id}:{model}"], capture_output=True, text=True, check=True
    )
    return float(child.stdout.split()[-1])


def rss_child(spec: str) -> None:
    engine_id, model = spec.split(":")
    import faster_whisper  # noqa: F401  (what every run imports, model or not)

    if model:
        engine = get_asr(engine_id, model=model, device="cpu")
        for path in [SPEECH_EN / n for n in REAL_ENGLISH] + [SPEECH_ZH / n for n in MANDARIN]:
            transcribe_speech(engine, decode_audio(path))
    print(common.memory_mb()["peak"])


def main() -> None:
    if sys.argv[1:2] == ["--rss-of"]:
        return rss_child(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engines", default="faster-whisper", help="comma-separated engine ids")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated Whisper models")
    parser.add_argument("--sentences", type=int, default=len(SENTENCES), help="how many English sentences to speak")
    args = common.parse(parser, quick={"runs": 1, "models": "tiny.en", "sentences": 1})
    with tempfile.TemporaryDirectory(prefix="asr-languages-") as tmp:
        os.environ.setdefault("LIFELOG_HOME", str(Path(tmp) / "home"))  # the assembled models go here
        bench(args, Path(tmp))


if __name__ == "__main__":
    main()
