"""The load-time graph rewrite: fewer nodes, the same outputs on real pages, a safe fallback."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import pytest

from lifelog.tokenize_media.ocr import onnx as ocr_onnx
from lifelog.tokenize_media.ocr.base import crop
from lifelog.tokenize_media.ocr.onnx import model_dir, open_session
from lifelog.tokenize_media.ocr.ppocr import DET_MODEL, REC_MODEL, PpOcrV4
from lifelog.tokenize_media.ocr.prep import content_box, det_input, rec_input
from tests.support.pages import DARK, code_page, text_page

onnx = pytest.importorskip("onnx", reason="the graph rewrite needs the onnx package")

from lifelog.tokenize_media.ocr.graph import fuse  # noqa: E402 - only once onnx is known to be there


def _op_counts(model) -> Counter:
    return Counter(node.op_type for node in model.graph.node)


@pytest.mark.parametrize("name", [REC_MODEL, DET_MODEL])
def test_rewrite_removes_the_spelled_out_activations(name):
    model = onnx.load(str(model_dir() / name))
    before = _op_counts(model)
    counts = fuse(model)
    after = _op_counts(model)
    onnx.checker.check_model(model)
    assert counts["conv_affine"] >= 20 and counts["hard_swish"] >= 20, counts
    assert after["Clip"] == 0  # every Add 3 / Clip 0..6 / Mul / Div 6 became x·HardSigmoid(x)
    assert after["Conv"] == before["Conv"]
    assert sum(after.values()) < (sum(before.values()) - before["Constant"]) * 0.75
    assert model.metadata_props == onnx.load(str(model_dir() / name)).metadata_props


@pytest.fixture(scope="module")
def rec_sessions():
    path = model_dir() / REC_MODEL
    return open_session(path, threads=1), open_session(path, threads=1, fuse=True)


def test_recogniser_outputs_match_on_real_line_crops(rec_sessions):
    shipped, fused = rec_sessions
    detector = PpOcrV4(workers=1, fuse_graphs=False)
    worst, steps = 0.0, 0
    for page in (text_page(), text_page(DARK), code_page()):
        for box in detector.detect(page.image):
            x = rec_input(crop(page.image, box), 48)[None]
            a, b = shipped.run(None, {"x": x})[0], fused.run(None, {"x": x})[0]
            worst = max(worst, float(np.abs(a - b).max()))
            differs = a.argmax(-1) != b.argmax(-1)
            if differs.any():  # only a near-tie between the top two classes may flip (other CPUs)
                top2 = np.sort(a, axis=-1)[..., -2:]
                assert (top2[..., 1] - top2[..., 0])[differs].max() < 4e-3
            steps += a.shape[1]
    assert steps > 2000
    assert worst < 2e-3, worst  # probabilities; measured 2.6e-4


# Float kernels differ between CPUs and ONNX Runtime builds, so the rewritten graphs are held
# to what OCR needs rather than to bit equality: nearly the same probabilities, the same text
# mask but for the odd pixel sitting on the threshold, the same boxes, the same text.
DET_THRESHOLD = 0.3  # DBPostProcess(thresh=...) in ppocr
BOX_SLACK_PX = 2


@pytest.fixture(scope="module")
def engines():
    return PpOcrV4(workers=1, fuse_graphs=False), PpOcrV4(workers=1)


def test_detector_outputs_match_on_real_pages():
    path = model_dir() / DET_MODEL
    shipped, fused = open_session(path), open_session(path, fuse=True)
    for page in (text_page(), code_page()):
        left, top, right, bottom = content_box(page.image)
        x, _ = det_input(page.image[top:bottom, left:right], 0.75)
        a, b = shipped.run(None, {"x": x})[0], fused.run(None, {"x": x})[0]
        assert float(np.abs(a - b).max()) < 1e-3  # measured 2-4e-5 (ORT's own optimisation levels: 6e-5)
        flipped = int(((a > DET_THRESHOLD) != (b > DET_THRESHOLD)).sum())
        assert flipped <= a.size * 1e-4, flipped  # at most 1 pixel in 10,000 (3 of ~500k lie within 1e-4 of it)
        assert (a > DET_THRESHOLD).mean() > 0.02  # the pages do have text


def assert_same_boxes(got, expected):
    """One box for each expected box, every edge within BOX_SLACK_PX (a pixel's shift may swap
    the reading order of two boxes on one line, so boxes are paired by position, not index)."""
    assert len(got) == len(expected) and len(expected) > 10, (len(got), len(expected))
    unpaired = list(got)
    for e in expected:
        near = [g for g in unpaired if max(abs(gv - ev) for gv, ev in zip(g, e)) <= BOX_SLACK_PX]
        assert near, (e, "has no box within", BOX_SLACK_PX, "px")
        unpaired.remove(near[0])


@pytest.mark.parametrize("page", [text_page, code_page], ids=["text", "code"])
def test_detector_finds_the_same_boxes_with_and_without_the_rewrite(engines, page):
    shipped, fused = engines
    image = page().image
    assert_same_boxes(fused.detect(image), shipped.detect(image))


def test_engine_reads_the_same_text_with_and_without_the_rewrite(engines):
    page = text_page()
    shipped, fused = (engine.recognize(page.image) for engine in engines)
    assert sorted(line.text for line in fused) == sorted(line.text for line in shipped)
    assert_same_boxes([line.box for line in fused], [line.box for line in shipped])


def test_failed_rewrite_falls_back_to_the_shipped_model(monkeypatch, caplog):
    from lifelog.tokenize_media.ocr import graph

    def broken(path):
        raise ValueError("no such pattern")

    monkeypatch.setattr(graph, "fused_model_bytes", broken)
    with caplog.at_level(logging.WARNING, logger=ocr_onnx.__name__):
        session = open_session(model_dir() / REC_MODEL, fuse=True)
    assert "graph rewrite failed" in caplog.text
    assert "character" in session.get_modelmeta().custom_metadata_map
