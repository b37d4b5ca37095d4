"""CTC decoding rules on hand-made probability tables (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

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


HAN = ["", "中", "文", "G", "i", "，", " "]


def han_table(steps: list[tuple[int, float]]) -> np.ndarray:
    probs = np.zeros((len(steps), len(HAN)), np.float32)
    for row, (cls, space) in enumerate(steps):
        probs[row, -1] = space
        probs[row, cls] = 1.0 - space
    return probs


def test_no_space_is_inferred_next_to_chinese_and_none_kept_between_two_characters():
    faint = 0.2  # well above the threshold that splits English words
    assert decode(han_table([(1, 0), (0, faint), (2, 0)]), HAN)[0] == "中文"
    assert decode(han_table([(1, 0), (0, faint), (3, 0), (0, 0), (4, 0)]), HAN)[0] == "中Gi"
    assert decode(han_table([(1, 0), (6, 0), (2, 0)]), HAN)[0] == "中文", "a space read outright between two"
    assert decode(han_table([(1, 0), (6, 0), (3, 0), (0, 0), (4, 0)]), HAN)[0] == "中 Gi", "a real one before English"
    assert decode(han_table([(3, 0), (0, faint), (4, 0)]), HAN)[0] == "G i"


def test_full_width_punctuation_stays_beside_chinese_only():
    assert normalize("你好，世界：（注意）") == "你好，世界：（注意）"
    assert normalize("total（x）： 1，2") == "total(x): 1,2"
    assert normalize("请在 GitHub 上查看，谢谢") == "请在 GitHub 上查看，谢谢"
    assert normalize("中 文 字") == "中文字"


def test_read_says_where_each_character_was_read_and_what_else_was_seen():
    from lifelog.tokenize_media.ocr.ctc import Reading, ascii_classes, read

    probs = table([(1, 0), (1, 0), (0, 0), (0, 0.5), (2, 0), (0, 0)])
    probs[2, 4] = 0.3  # a "(" the blank outweighed at step 2
    reading = read(probs, CHARSET, 0.03, 0.1, ascii_classes(CHARSET))
    assert reading == ("a b", reading[1]) and isinstance(reading, Reading)
    glyphs = reading.glyphs
    assert glyphs.at == (0.1, 0.45), "the middle of each character's steps, spaces left out"
    assert glyphs.alt[2] == "(" and glyphs.alt_p[2] == pytest.approx(0.3)
    import pickle

    assert pickle.loads(pickle.dumps(reading)).glyphs == glyphs, "a cache may pickle it"


def test_read_gives_no_positions_when_normalising_changes_the_count():
    from lifelog.tokenize_media.ocr.ctc import ascii_classes, read

    charset = ["", "a", "…", " "]
    probs = np.zeros((3, 4), np.float32)
    probs[[0, 1, 2], [1, 0, 2]] = 1
    reading = read(probs, charset, 0.03, 0.1, ascii_classes(charset))
    assert reading[0] == "a..." and reading.glyphs is None
