"""ScreenReader pays only for what changed, and still returns the whole screen's text."""

from __future__ import annotations

import numpy as np
import pytest

from lifelog.tokenize_media.ocr import ScreenReader, get_engine
from lifelog.tokenize_media.ocr.base import OcrEngine
from lifelog.tokenize_media.ocr.diff import changed_mask, find_scroll, row_bands
from tests.support.pages import PROSE, edited_line, scrolled_pair, text_page, word_scores


class CountingEngine(OcrEngine):
    """The real engine, with a tally of what the reader asked of it."""

    id = "counting"

    def __init__(self, inner: OcrEngine) -> None:
        self.inner, self.providers, self.min_score = inner, inner.providers, inner.min_score
        self.detected_rows = 0
        self.recognized = 0

    def detect(self, image):
        self.detected_rows += image.shape[0]
        return self.inner.detect(image)

    def read_lines(self, crops):
        self.recognized += len(crops)
        return self.inner.read_lines(crops)


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return get_engine("ppocr-v4")


@pytest.fixture(scope="module")
def scrolled(engine):
    """A reader that has read a page and then the same page scrolled by four lines."""
    before, after = scrolled_pair(shift_lines=4)
    counting = CountingEngine(engine)
    reader = ScreenReader(counting)
    reader.read(before.image)
    counting.detected_rows = counting.recognized = 0
    result = reader.read(after.image)
    result.stats["engine_calls"] = (counting.detected_rows, counting.recognized)
    return reader, counting, before, after, result


def texts(lines) -> list[str]:
    return [line.text for line in lines]


def reads_as(got: str, expected: str) -> bool:
    """A line read as the one on screen, give or take a word: OCR's float kernels differ by
    CPU (AVX2, AVX-512), so a marginal character may come out otherwise elsewhere."""
    recall, precision = word_scores([expected], [got])
    return recall >= 0.85 and precision >= 0.85


def test_scrolled_page_reads_like_a_full_pass(engine, scrolled):
    _, _, _, after, result = scrolled
    full = engine.recognize(after.image)
    assert len(result.lines) == len(full)
    same = sum(a == b for a, b in zip(texts(result.lines), texts(full)))
    assert same >= len(full) - 1, list(zip(texts(result.lines), texts(full)))
    recall, precision = word_scores(after.lines, texts(result.lines))
    assert recall >= 0.95 and precision >= 0.9
    for line, ref in zip(result.lines, full):
        assert abs((line.box[1] + line.box[3]) - (ref.box[1] + ref.box[3])) <= 12, (line, ref)


def test_scroll_carries_lines_over_and_reads_only_the_new_strip(scrolled):
    _, _, before, _, result = scrolled
    stats = result.stats
    detected_rows, recognized = stats["engine_calls"]
    assert stats["scroll_dy"] == 4 * before.line_height
    assert stats["lines_shifted"] >= 20
    assert stats["lines_recognized"] <= 6
    assert recognized == stats["lines_recognized"]
    assert detected_rows < 400, "only the exposed strip goes to detection"
    assert any(reads_as(text, PROSE[32]) for text in texts(result.lines))


def test_scrolling_back_needs_no_recognition(scrolled):
    reader, counting, before, _, _ = scrolled
    counting.recognized = 0
    result = reader.read(before.image)
    assert result.stats["scroll_dy"] == -4 * before.line_height
    assert counting.recognized == 0 and result.stats["lines_cached"] >= 3
    assert reads_as(texts(result.lines)[1], PROSE[0])


def test_unchanged_frame_costs_nothing(scrolled):
    reader, counting, _, after, _ = scrolled
    reader.read(after.image)  # make sure the reader's last frame is ``after``
    counting.detected_rows = counting.recognized = 0
    again = reader.read(after.image.copy())
    assert counting.detected_rows == 0 and counting.recognized == 0
    assert texts(again.lines) == texts(reader.read(after.image).lines)
    assert again.stats["det_ms"] == 0 and again.stats["rec_ms"] == 0


def test_one_line_edit_reads_about_that_line(engine):
    page = text_page()
    counting = CountingEngine(engine)
    reader = ScreenReader(counting)
    first = reader.read(page.image)
    edited = edited_line(page, 5, "The database migration touched 38 tables and left 2 warnings.")
    counting.detected_rows = counting.recognized = 0
    result = reader.read(edited.image, changed=(0, 182, 1920, 216))
    assert counting.recognized <= 2
    assert counting.detected_rows <= 200
    assert result.stats["lines_kept"] >= len(first.lines) - 3
    assert reads_as(texts(result.lines)[5], edited.lines[5])
    assert texts(result.lines)[:5] == texts(first.lines)[:5]
    assert len(result.lines) == len(first.lines)


def test_reset_forgets_everything(engine):
    counting = CountingEngine(engine)
    reader = ScreenReader(counting)
    page = text_page()
    reader.read(page.image[:200])
    reader.reset()
    counting.recognized = 0
    assert len(reader.read(page.image[:200]).lines) >= 4
    assert counting.recognized >= 4


def test_find_scroll_on_synthetic_rows():
    rng = np.random.default_rng(1)
    old = rng.integers(0, 255, (300, 64, 3), dtype=np.uint8)
    new = np.vstack([old[30:], rng.integers(0, 255, (30, 64, 3), dtype=np.uint8)])
    assert find_scroll(old, new, (0, 0, 64, 300)) == 30
    assert find_scroll(new, old, (0, 0, 64, 300)) == -30
    edit = old.copy()
    edit[100:110] = 0
    assert find_scroll(old, edit, (0, 100, 64, 110)) is None


def test_row_bands_merge_and_pad():
    mask = np.zeros((1000, 10), bool)
    mask[100, 3] = mask[130, 5] = mask[600, 1] = True
    assert row_bands(mask, 40) == [(60, 171), (560, 641)]
    assert changed_mask(np.zeros((2, 2, 3), np.uint8), np.eye(2, dtype=np.uint8)[..., None].repeat(3, 2)).sum() == 2
