"""The synthetic screens the OCR tests and benchmarks score against (``tests/support/pages.py``):
ink where the text is, scrolls that shift rows, word scores that count words."""

from __future__ import annotations

import numpy as np

from tests.support.pages import HEIGHT, PROSE, WIDTH, scrolled_pair, text_page, word_scores


def test_text_page_has_thirty_lines_of_ink():
    page = text_page()
    assert page.image.shape == (HEIGHT, WIDTH, 3)
    assert len(page.lines) >= 30
    assert (page.image < 128).any(axis=2).sum() > 50_000


def test_scrolled_pair_shares_shifted_rows():
    before, after = scrolled_pair(shift_lines=4)
    dy = 4 * before.line_height
    assert np.array_equal(before.image[40 + dy : 600], after.image[40 : 600 - dy])
    assert after.lines[1] == PROSE[4]


def test_word_scores_counts_words_not_characters():
    assert word_scores(["Invoice 4821, paid."], ["invoice 4821 paid"]) == (1.0, 1.0)
    assert word_scores(["a b c d"], ["a b"]) == (0.5, 1.0)
