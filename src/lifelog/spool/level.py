"""Loudness of audio: the cheap silence gate capture applies before anything is spooled (no
model involved), shared with tokenize_media's voice activity detection."""

from __future__ import annotations

import numpy as np


def frame_dbfs(audio: np.ndarray, frame: int) -> np.ndarray:
    """RMS level in dBFS of each whole ``frame``-sample block (full-scale sine ≈ -3 dB).
    int16 samples are scaled to [-1, 1] first."""
    count = audio.size // frame
    if count == 0:
        return np.zeros(0, np.float32)
    blocks = audio[: count * frame].reshape(count, frame).astype(np.float64)
    if audio.dtype == np.int16:
        blocks /= 32768.0
    rms = np.sqrt(np.mean(blocks * blocks, axis=1))
    return (20 * np.log10(np.maximum(rms, 1e-10))).astype(np.float32)
