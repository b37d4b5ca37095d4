"""Loudness of audio blocks: the cheap silence gate capture applies before anything is
spooled (no model involved), shared with tokenize_media."""

from __future__ import annotations

import numpy as np

FRAME_S = 0.03


def frame_dbfs(samples: np.ndarray, rate: int, frame_s: float = FRAME_S) -> np.ndarray:
    """RMS level in dBFS of consecutive ``frame_s`` frames of int16 or float samples."""
    x = samples.astype(np.float32)
    if samples.dtype == np.int16:
        x /= 32768.0
    n = max(1, int(rate * frame_s))
    usable = len(x) // n * n
    if usable == 0:
        return np.full(1, -120.0, np.float32)
    rms = np.sqrt(np.mean(x[:usable].reshape(-1, n) ** 2, axis=1) + 1e-12)
    return 20 * np.log10(rms)


def voiced_fraction(samples: np.ndarray, rate: int, threshold_dbfs: float) -> float:
    levels = frame_dbfs(samples, rate)
    return float(np.mean(levels > threshold_dbfs))
