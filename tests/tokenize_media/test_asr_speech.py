"""The synthetic speech the ASR tests and benchmarks score against (``tests/support/speech.py``):
audible, paced like speech, and scored by words."""

from __future__ import annotations

import numpy as np
import pytest

from lifelog.tokenize_media.asr.base import SAMPLE_RATE
from tests.support.speech import SHORT, needs_espeak, normalise, place, speech_samples, word_accuracy, word_errors


@needs_espeak
def test_spoken_sentences_are_audible_and_paced(tmp_path):
    audio = speech_samples(" ".join(SHORT), tmp_path)
    seconds = audio.size / SAMPLE_RATE
    words = len(normalise(" ".join(SHORT)))
    assert 0.3 < seconds / words < 0.7  # ~150 words a minute plus sentence pauses
    assert np.sqrt(np.mean(audio**2)) > 0.05


def test_word_accuracy_counts_edits():
    assert word_accuracy("the budget review", "The budget, review.") == 1.0
    assert word_accuracy("we need 25 slides", "we need twenty five slides") == pytest.approx(1 - 2 / 4)
    assert word_accuracy("sales grew 12 percent", "sales grew 12%") == 1.0
    assert word_errors(["a", "b", "c"], ["a", "c"]) == 1


def test_place_puts_speech_at_its_offset():
    speech = np.ones(SAMPLE_RATE, np.float32)
    audio = place(speech, at=3.0, total=6.0)
    assert np.flatnonzero(audio)[0] == 3 * SAMPLE_RATE
    assert audio.size == 6 * SAMPLE_RATE
