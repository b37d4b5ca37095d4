"""The ppocr-v4 engine reads rendered screens: real ONNX models, real pixels, scored by words."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest

from lifelog.errors import UnknownEngine
from lifelog.tokenize_media.ocr import engine_ids, get_engine
from lifelog.tokenize_media.ocr.base import OcrEngine, reading_order
from tests.support.pages import DARK, code_page, text_page, word_scores


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return get_engine("ppocr-v4")


def test_unknown_engine_lists_valid_ids():
    with pytest.raises(UnknownEngine) as err:
        get_engine("tesseract-9")
    assert "ppocr-v4" in str(err.value)
    assert err.value.valid == engine_ids()


def test_same_instance_each_time(engine):
    assert get_engine("ppocr-v4") is engine
    assert get_engine() is engine
    assert engine.id == "ppocr-v4"
    assert engine.providers[-1] == "CPUExecutionProvider"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_prose_page_words_are_read(engine, theme):
    page = text_page(DARK) if theme == "dark" else text_page()
    lines = engine.recognize(page.image)
    recall, precision = word_scores(page.lines, [line.text for line in lines])
    assert recall >= 0.95, [line.text for line in lines]
    assert precision >= 0.90
    assert "invoice 4821" in " ".join(line.text for line in lines)


def test_lines_come_back_in_reading_order_with_boxes(engine):
    page = text_page()
    lines = engine.recognize(page.image)
    assert len(lines) == len(page.lines)
    tops = [line.box[1] for line in lines]
    assert tops == sorted(tops)
    for line in lines:
        left, top, right, bottom = line.box
        assert 0 <= left < right <= 1920 and 0 <= top < bottom <= 1080
        assert line.score >= 0.5


def test_code_page_keeps_words_and_ascii_punctuation(engine):
    page = code_page()
    text = [line.text for line in engine.recognize(page.image)]
    recall, _ = word_scores(page.lines, text)
    assert recall >= 0.90, text
    joined = "".join(text)
    assert not [c for c in joined if unicodedata.east_asian_width(c) in "FW"], joined
    for mark in '():[]{}=,"':
        assert mark in joined
    assert "parse_invoice" in joined, "no space may split an identifier at its underscore"


def test_blank_and_tiny_images_have_no_text(engine):
    assert engine.recognize(np.full((1080, 1920, 3), 255, np.uint8)) == []
    assert engine.recognize(np.zeros((2, 2, 3), np.uint8)) == []


def test_read_lines_keeps_input_order(engine):
    page = text_page()
    boxes = engine.detect(page.image)[:3]
    crops = [page.image[t:b, l:r] for l, t, r, b in boxes]
    forward = engine.read_lines(crops)
    backward = engine.read_lines(crops[::-1])
    assert [text for text, _ in forward] == [text for text, _ in backward[::-1]]
    assert forward[0][0] == page.lines[0]


def test_reading_order_puts_same_row_left_to_right():
    boxes = [(500, 12, 700, 40), (10, 100, 200, 130), (10, 10, 300, 42)]
    assert reading_order(boxes) == [(10, 10, 300, 42), (500, 12, 700, 40), (10, 100, 200, 130)]


def test_the_engine_says_which_scripts_it_reads(engine):
    """From the model's own character set: PP-OCRv4's bundled model reads Chinese and Latin
    letters, not kana or Hangul (a handful of each is not a script)."""
    reads = engine.reads
    assert reads.startswith("Chinese Han characters (") and "Latin letters (" in reads.split("; not")[0]
    assert "Japanese kana" in reads.split("; not")[1] and "Korean Hangul" in reads.split("; not")[1]


def test_scripts_read_counts_characters_per_script():
    from lifelog.tokenize_media.ocr.ppocr import scripts_read

    hangul = [chr(c) for c in range(0xAC00, 0xAC00 + 1200)]
    latin = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    assert scripts_read(["", *hangul, *latin, " "]).startswith("Latin letters (52) and Korean Hangul (1,200); not ")
    assert scripts_read(["", "1", " "]).startswith("no script fully; not Chinese Han characters (0)")


def test_another_recognition_model_from_a_path(tmp_path, engine):
    """``ocr_rec_model``: a PP-OCR recogniser from a file (here the bundled one, copied: no other
    language's model ships in an installed package) reads as the bundled one does; a model
    without its character list is refused with one clear line; a missing file is a config error."""
    import shutil

    from lifelog.config import load_settings
    from lifelog.errors import ConfigError, EngineError
    from lifelog.tokenize_media.ocr.onnx import model_dir
    from lifelog.tokenize_media.ocr.ppocr import DET_MODEL, REC_MODEL, PpOcrV4

    mine = tmp_path / "my_rec.onnx"
    shutil.copy(model_dir() / REC_MODEL, mine)
    page = text_page()
    other = PpOcrV4(rec_model=str(mine), workers=1)
    assert [line.text for line in other.recognize(page.image)] == [line.text for line in engine.recognize(page.image)]
    with pytest.raises(EngineError, match="no 'character' metadata"):
        PpOcrV4(rec_model=str(model_dir() / DET_MODEL), workers=1)
    assert load_settings(None, env={"LIFELOG_OCR_REC_MODEL": str(mine)}).ocr_options() == {"rec_model": str(mine)}
    with pytest.raises(ConfigError, match="ocr_rec_model = .*no such file"):
        load_settings(None, env={"LIFELOG_OCR_REC_MODEL": str(tmp_path / "nope.onnx")})


def test_line_pitch_tells_small_text_and_has_no_answer_without_lines():
    from lifelog.tokenize_media.ocr.prep import SMALL_PITCH, line_pitch

    assert line_pitch(text_page().image) == pytest.approx(text_page().line_height, abs=1)
    assert line_pitch(code_page().image) >= SMALL_PITCH
    rows = np.full((400, 600, 3), 255, np.uint8)
    for top in range(10, 390, 13):  # a bitmap terminal's 13 px rows of glyph-like ink
        rows[top + 3 : top + 11, 20:580:3] = 0
    assert line_pitch(rows) == 13
    assert line_pitch(np.full((300, 300, 3), 255, np.uint8)) is None
    assert line_pitch(np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8)) is None
    band = np.full((120, 800, 3), 255, np.uint8)
    band[50:60, 10:700] = 0  # one line in a strip: no pitch, and no error
    assert line_pitch(band) is None
