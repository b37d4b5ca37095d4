"""CTC decoding rules on hand-made probability tables (no model needed)."""

from __future__ import annotations

import numpy as np

from lifelog.tokenize_media.ocr.ctc import decode, fix_digits, normalize

CHARSET = ["", "a", "b", "_", "(", ")", "：", "9", "o", " "]
SPACE = len(CHARSET) - 1


def table(steps: list[tuple[int, float]]) -> np.ndarray:
    """One row per time step: the winning class gets ``p``, P(space) the given extra share."""
    probs = np.zeros((len(steps), len(CHARSET)), np.float32)
    for row, (cls, space) in enumerate(steps):
        probs[row, SPACE] = space
        probs[row, cls] = 1.0 - space
    return probs


def test_space_restored_from_faint_space_probability():
    text, score = decode(table([(1, 0), (0, 0.05), (2, 0)]), CHARSET)
    assert text == "a b"
    assert 0.9 < score <= 1.0


def test_no_space_below_threshold_or_next_to_underscore():
    assert decode(table([(1, 0), (0, 0.01), (2, 0)]), CHARSET)[0] == "ab"
    assert decode(table([(1, 0), (0, 0.2), (3, 0), (0, 0.2), (2, 0)]), CHARSET)[0] == "a_b"


def test_no_space_inside_brackets_or_before_colon():
    steps = [(1, 0), (0, 0.2), (4, 0), (0, 0.2), (2, 0), (0, 0.2), (5, 0), (0, 0.2), (6, 0)]
    assert decode(table(steps), CHARSET)[0] == "a (b):", "a space before '(' is prose; inside is not"


def test_repeats_collapse_and_blanks_separate():
    assert decode(table([(1, 0), (1, 0), (0, 0), (1, 0)]), CHARSET)[0] == "aa"
    assert decode(table([(0, 0), (0, 0)]), CHARSET) == ("", 0.0)


def test_normalize_and_digits():
    assert normalize("ａ（b）：  c\t d ") == "a(b): c d"
    assert fix_digits("invoice 48o1 costs 9o euros, not good") == "invoice 4801 costs 90 euros, not good"
