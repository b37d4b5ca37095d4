"""Recorder CPU with audio on and silence, and audio storage per hour of speech.

    .venv/bin/python bench/audio_cpu.py [--short 20] [--long 80]

Runs the real `lifelog record` on a static Xvfb screen with a private PulseAudio (silent
sinks). CPU is the whole process tree's user+sys (RUSAGE_CHILDREN); start-up (model loading)
is cancelled by differencing a short and a long run: steady CPU = (long - short) / (long - short s).
Then speech is played into the system output for a while to measure stored audio per hour.
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

from tests.support.pulse import PrivatePulse
from tests.support.xscreen import XScreen

tree_cpu = common.children_cpu_seconds


def record(env: dict, seconds: float, *extra: str) -> tuple[float, dict]:
    home = Path(tempfile.mkdtemp()) / "home"
    env = {**env, "LIFELOG_HOME": str(home)}
    before = tree_cpu()
    out = subprocess.run(
        [sys.executable, "-m", "lifelog.cli.app", "record", "--duration", f"{seconds}s", "--json", *extra],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return tree_cpu() - before, json.loads(out)


def steady_cpu(env: dict, short: float, long: float, *extra: str) -> float:
    cpu_short, _ = record(env, short, *extra)
    cpu_long, summary = record(env, long, *extra)
    assert summary["transcripts"] == 0, summary
    return 100 * (cpu_long - cpu_short) / (long - short)


def speech_storage(
    env: dict, pulse: PrivatePulse, seconds: float, settle: float = 8, repeat: int = 4
) -> tuple[float, float]:
    """Audio bytes and voiced seconds stored while speech (the sentence ``repeat`` times) plays
    from ``settle`` s after the recorder starts until 6 s before it stops."""
    text = " ".join(["The quarterly budget review covers hiring, travel and the new data center."] * repeat)
    wav = Path(tempfile.mkdtemp()) / "talk.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), text], check=True)
    home = Path(tempfile.mkdtemp()) / "home"
    env = {**env, "LIFELOG_HOME": str(home)}
    rec = subprocess.Popen(
        [sys.executable, "-m", "lifelog.cli.app", "record", "--duration", f"{seconds}s", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(settle)
    deadline = time.monotonic() + seconds - settle - 6
    while time.monotonic() < deadline:
        pulse.play(wav, to="system")
    rec.communicate(timeout=600)
    status = json.loads(
        subprocess.run(
            [sys.executable, "-m", "lifelog.cli.app", "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    return status["audio_bytes"], status["audio_voiced_s"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--short", type=float, default=20)
    ap.add_argument("--long", type=float, default=80)
    ap.add_argument("--speech", type=float, default=90, help="seconds of recording while speech plays")
    ap.add_argument("--settle", type=float, default=8, help="seconds from the recorder's start to the first speech")
    ap.add_argument("--repeat", type=int, default=4, help="times the sentence is said in one clip")
    args = common.parse(ap, quick={"short": 1, "long": 2, "speech": 10, "settle": 3, "repeat": 1})
    screen, pulse = XScreen(), PrivatePulse()
    env = {**pulse.env, "DISPLAY": screen.display}
    try:
        silent_audio = steady_cpu(env, args.short, args.long)
        no_audio = steady_cpu(env, args.short, args.long, "--no-audio")
        audio_bytes, voiced_s = speech_storage(env, pulse, args.speech, args.settle, args.repeat)
    finally:
        pulse.stop()
        screen.stop()
    print("| measure | value |\n|---|---|")
    print(f"| recorder CPU, static screen, audio on (mic + system), silence | {silent_audio:.1f}% of one core |")
    print(f"| recorder CPU, static screen, --no-audio | {no_audio:.1f}% of one core |")
    print(
        f"| audio kept per hour of speech (Opus 16 kbit/s) | {audio_bytes / max(voiced_s, 1) * 3600 / 1e6:.1f} MB "
        f"({audio_bytes / 1e6:.2f} MB for {voiced_s:.0f} s voiced) |"
    )


if __name__ == "__main__":
    main()
