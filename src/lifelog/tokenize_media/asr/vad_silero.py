"""Silero VAD (v6) through ONNX Runtime: a 1.2 MB network that tells speech from noise.

faster-whisper ships the ONNX file in its package assets, so it is found offline; lifelog
runs it itself (one session, CPU) rather than through faster-whisper so that both ASR
engines get the same speech regions.

The model reads 512-sample windows at 16 kHz (32 ms), each prefixed with the previous
window's last 64 samples, and carries an LSTM state (h, c) from window to window. This
export takes the whole window sequence in one call.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

from lifelog.quiet import quiet_dependencies, quiet_onnxruntime
from lifelog.tokenize_media.asr.base import SAMPLE_RATE
from lifelog.tokenize_media.asr.regions import DEFAULT_RULES, Region, RegionRules, mask_to_regions

log = logging.getLogger(__name__)

WINDOW = 512
CONTEXT = 64
BATCH = 4096  # windows per call (about 2 minutes), bounding memory on long files


def model_file() -> Path | None:
    """The Silero ONNX file inside faster-whisper's assets, or None when not installed."""
    quiet_dependencies()  # faster_whisper imports huggingface_hub
    try:
        from faster_whisper.utils import get_assets_path
    except ImportError:
        return None
    path = Path(get_assets_path()) / "silero_vad_v6.onnx"
    return path if path.is_file() else None


def available() -> bool:
    return model_file() is not None


@functools.lru_cache(maxsize=1)
def _session():
    onnxruntime = quiet_onnxruntime()

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # a tiny recurrent net: threads only add overhead
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(model_file()), sess_options=options, providers=["CPUExecutionProvider"])


def speech_probs(audio: np.ndarray) -> np.ndarray:
    """Probability of speech for each 32 ms window of 16 kHz ``audio`` (last window zero-padded)."""
    audio = np.asarray(audio, np.float32)
    if audio.size == 0:
        return np.zeros(0, np.float32)
    padded = np.pad(audio, (0, -audio.size % WINDOW))
    windows = padded.reshape(-1, WINDOW)
    previous = np.vstack([np.zeros((1, CONTEXT), np.float32), windows[:-1, -CONTEXT:]])
    inputs = np.hstack([previous, windows])
    state = [np.zeros((1, 1, 128), np.float32), np.zeros((1, 1, 128), np.float32)]
    probs = []
    for i in range(0, len(inputs), BATCH):
        out, *state = _session().run(None, {"input": inputs[i : i + BATCH], "h": state[0], "c": state[1]})
        probs.append(np.asarray(out, np.float32).reshape(-1))
    return np.concatenate(probs)


def hysteresis(probs: np.ndarray, on: float = 0.5, off: float = 0.35) -> np.ndarray:
    """Speech starts when a window reaches ``on`` and lasts until one falls below ``off``."""
    mask = np.zeros(probs.size, bool)
    speaking = False
    for i, p in enumerate(probs):
        speaking = p >= on or (speaking and p >= off)
        mask[i] = speaking
    return mask


def silero_regions(
    audio: np.ndarray, rate: int = SAMPLE_RATE, threshold: float = 0.5, rules: RegionRules = DEFAULT_RULES
) -> list[Region]:
    """Speech regions of ``audio`` by Silero VAD; audio at other rates is resampled to 16 kHz first."""
    audio = np.asarray(audio, np.float32)
    if rate != SAMPLE_RATE:
        audio = _resample(audio, rate)
    mask = hysteresis(speech_probs(audio), threshold, max(threshold - 0.15, 0.01))
    return mask_to_regions(mask, WINDOW / SAMPLE_RATE, audio.size / SAMPLE_RATE, rules)


def _resample(audio: np.ndarray, rate: int) -> np.ndarray:
    """Linear resampling to 16 kHz: plenty for a speech/no-speech decision."""
    count = round(audio.size * SAMPLE_RATE / rate)
    return np.interp(np.arange(count) * rate / SAMPLE_RATE, np.arange(audio.size), audio).astype(np.float32)
