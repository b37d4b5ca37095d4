"""The "ppocr-v4" engine: PP-OCRv4 detection and recognition ONNX models run with ONNX Runtime.

The models ship inside the ``rapidocr_onnxruntime`` wheel, so nothing is downloaded. We run
both sessions ourselves rather than through ``RapidOCR``: its angle classifier flips long
lines, its recogniser pads batches (slow, and it loses spaces), and it hides the per-step
probabilities we need to put back the spaces between English words. Only rapidocr's DB
post-processing (contours to boxes) is reused.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from lifelog.errors import EngineError
from lifelog.models import Box
from lifelog.quiet import quiet_dependencies
from lifelog.tokenize_media.ocr.base import OcrEngine, reading_order
from lifelog.tokenize_media.ocr.ctc import Reading, ascii_classes, read
from lifelog.tokenize_media.ocr.onnx import CUDA, model_dir, open_session, providers
from lifelog.tokenize_media.ocr.prep import (
    SMALL_PITCH,
    content_box,
    det_input,
    line_pitch,
    rec_input,
    stack,
    valid_steps,
    width_groups,
)

log = logging.getLogger(__name__)

DET_MODEL = "ch_PP-OCRv4_det_infer.onnx"
REC_MODEL = "ch_PP-OCRv4_rec_infer.onnx"
REC_HEIGHT = 48


class PpOcrV4(OcrEngine):
    """PP-OCRv4 det + rec on CPU or CUDA, no angle classifier.

    ``det_scale`` resizes the image before detection: 0.75 keeps 12-14 px UI text readable
    (0.6 lost 7% of its words, 0.5 a third) at about half the cost of full resolution.
    ``rec_height`` is the recogniser's input height; the model was trained at 48, and 40-44
    cost 15-30% less but start losing small text. ``space_threshold`` is the P(space) above
    which a word gap is declared (see ``ctc``). ``rec_pad`` is how much wider, as a fraction,
    a crop may be padded to share a recognition batch (0 on CPU, where padding only costs;
    None picks 0.2 on CUDA). ``workers`` parallel recognition calls (None: one per core).
    ``fuse_graphs`` runs both models on their load-time rewritten graphs (see ``graph``): the
    same arithmetic in fewer nodes, about a third less CPU time for recognition and a quarter
    less for detection; False runs the models as shipped. ``small_text_scale``: small text
    (lines closer than ``prep.SMALL_PITCH`` pixels, such as xterm's default 6x13 font) is
    detected at this scale instead, since at ``det_scale`` its lines merge (None: never).
    ``sharp_upscale`` scales lines up to ``rec_height`` with Lanczos (see ``prep.rec_input``).
    """

    id = "ppocr-v4"

    def __init__(
        self,
        *,
        det_scale: float = 0.75,
        rec_height: int = REC_HEIGHT,
        space_threshold: float = 0.03,
        rec_pad: float | None = None,
        workers: int | None = None,
        min_score: float = 0.5,
        fuse_graphs: bool = True,
        rec_model: str | None = None,
        small_text_scale: float | None = 1.5,
        sharp_upscale: bool = True,
    ) -> None:
        quiet_dependencies()  # importing rapidocr imports onnxruntime
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess

        folder = model_dir()
        self.workers = workers or default_workers()
        self._det = open_session(folder / DET_MODEL, fuse=fuse_graphs)
        rec_path = Path(rec_model).expanduser() if rec_model else folder / REC_MODEL
        self._rec = open_session(rec_path, threads=1 if self.workers > 1 else None, fuse=fuse_graphs)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ocr-rec") if self.workers > 1 else None
        self.providers = self._rec.get_providers()
        self.rec_height = rec_height
        self._charset = _charset(self._rec, rec_path)
        self._ascii = ascii_classes(self._charset)
        self._post = DBPostProcess(thresh=0.3, box_thresh=0.5, unclip_ratio=1.6, use_dilation=True)
        self.det_scale = det_scale
        self.small_text_scale = small_text_scale
        self.sharp_upscale = sharp_upscale
        self.space_threshold = space_threshold
        self.rec_pad = rec_pad if rec_pad is not None else (0.2 if CUDA in self.providers else 0.0)
        self.min_score = min_score
        log.info("ppocr-v4 loaded from %s on %s", folder, self.providers)

    @property
    def reads(self) -> str:
        """The scripts this recognition model reads (``doctor``)."""
        return scripts_read(self._charset)

    def detect(self, image: np.ndarray) -> list[Box]:
        """Text line boxes via DB segmentation, in reading order.

        Only the part of the image that is not plain background goes through the network:
        detection cost grows with area, and screens have wide empty margins.
        """
        region = content_box(image)
        if region is None:
            return []
        left, top, right, bottom = region
        content = image[top:bottom, left:right]
        boxes = self._detect_all(content, self._scale_for(content))
        return reading_order([(l + left, t + top, r + left, b + top) for l, t, r, b in boxes])

    def _scale_for(self, content: np.ndarray) -> float:
        """``det_scale``, or ``small_text_scale`` for small text: lines set closer than
        ``SMALL_PITCH`` pixels (found in ~10 ms) would merge at ``det_scale``."""
        if self.small_text_scale and self.small_text_scale > self.det_scale:
            pitch = line_pitch(content)
            if pitch is not None and pitch < SMALL_PITCH:
                return self.small_text_scale
        return self.det_scale

    def _detect_all(self, image: np.ndarray, scale: float) -> list[Box]:
        h, w = image.shape[:2]
        tensor, shape = det_input(image, scale)
        pred = self._det.run(None, {"x": tensor})[0]
        quads, _ = self._post(pred, shape)
        boxes = [_quad_to_box(q, w, h) for q in quads]
        return [b for b in boxes if b[2] - b[0] > 3 and b[3] - b[1] > 3]

    def read_lines(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:  # each a ctc.Reading
        """Recognise crops one call per (nearly) equal width group, widest first, in parallel.

        On CPU each crop is its own call: padded batches cost every line the widest one's
        time and lose spaces (FIELD-NOTES), and parallel single-threaded calls kept both
        cores busy better than ORT's intra-op threads (2.6 s vs 3.3 s on a text page).
        """
        inputs = [rec_input(c, self.rec_height, self.sharp_upscale) for c in crops]
        groups = width_groups([x.shape[2] for x in inputs], self.rec_pad)
        groups.sort(key=lambda g: -inputs[g[-1]].shape[2])  # widest first: less idle time at the end
        mapper = self._pool.map if self._pool else map
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        for group, decoded in zip(groups, mapper(lambda g: self._read_group(inputs, g), groups)):
            for i, result in zip(group, decoded):
                results[i] = result
        return results

    def _read_group(self, inputs: list[np.ndarray], group: list[int]) -> list[Reading]:
        """Each crop's reading, with where its characters are (``ctc.Glyphs``): a time step is
        ``batch width / steps`` input pixels, of an input ``inputs[i].shape[2]`` wide."""
        batch = stack([inputs[i] for i in group], self.rec_height)
        probs = self._rec.run(None, {"x": batch})[0]
        stride = batch.shape[3] / probs.shape[1]
        return [
            read(
                p[: valid_steps(inputs[i].shape[2], batch.shape[3], p.shape[0])],
                self._charset,
                self.space_threshold,
                stride / inputs[i].shape[2],
                self._ascii,
            )
            for i, p in zip(group, probs)
        ]


# (what the Unicode name of a character starts with, the script's name, how many characters a
# model needs to be said to read it: Chinese needs thousands, an alphabet a few dozen)
_SCRIPTS = (
    (("CJK UNIFIED IDEOGRAPH",), "Chinese Han characters", 1000),
    (("LATIN",), "Latin letters", 40),
    (("HIRAGANA", "KATAKANA"), "Japanese kana", 100),
    (("HANGUL",), "Korean Hangul", 1000),
    (("CYRILLIC",), "Cyrillic", 50),
    (("GREEK",), "Greek", 40),
    (("ARABIC",), "Arabic", 40),
    (("DEVANAGARI",), "Devanagari", 40),
    (("THAI",), "Thai", 40),
)


def scripts_read(charset: list[str]) -> str:
    """Which scripts a recognition model reads, from its own character set, e.g. ``Chinese Han
    characters (6,280) and Latin letters (77); not Japanese kana (4), Korean Hangul (0), ...``"""
    import unicodedata

    counts = [0] * len(_SCRIPTS)
    for ch in charset:
        name = unicodedata.name(ch, "") if len(ch) == 1 else ""
        for i, (prefixes, _, _) in enumerate(_SCRIPTS):
            if name.startswith(prefixes):
                counts[i] += 1
    reads = [f"{label} ({n:,})" for (_, label, need), n in zip(_SCRIPTS, counts) if n >= need]
    lacks = [f"{label} ({n:,})" for (_, label, need), n in zip(_SCRIPTS, counts) if n < need]
    return " and ".join(reads or ["no script fully"]) + ("; not " + ", ".join(lacks) if lacks else "")


def _charset(session, path: Path) -> list[str]:
    """Class index to text: blank, the model's own characters, then space (the last class)."""
    meta = session.get_modelmeta().custom_metadata_map
    if "character" not in meta:
        raise EngineError(
            f"{path} has no 'character' metadata (the model's characters, one per line), so its "
            "output cannot be read: use a PP-OCR recognition model exported with it (as RapidOCR's are)."
        )
    return ["", *meta["character"].splitlines(), " "]


def _quad_to_box(quad: np.ndarray, width: int, height: int) -> Box:
    xs, ys = quad[:, 0], quad[:, 1]
    left, top = max(0, int(xs.min())), max(0, int(ys.min()))
    right, bottom = min(width, int(xs.max()) + 1), min(height, int(ys.max()) + 1)
    return (left, top, right, bottom)


def default_workers() -> int:
    """Parallel recognition calls: one per core on CPU (beats ORT's intra-op threads on these
    small tensors), one on CUDA where the GPU is the bottleneck."""
    if CUDA in providers():
        return 1
    return max(1, min(4, os.cpu_count() or 1))
