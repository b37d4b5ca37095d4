"""Find the speech in audio before Whisper sees it, so silence never becomes "Thank you."

Two detectors share one way of turning per-frame decisions into regions:

- ``energy_regions``: an RMS gate, pure numpy, microseconds per second of audio. It rejects
  silence and faint hiss; it cannot tell speech from a fan or music.
- ``speech_regions``: the energy gate, then the Silero VAD network (``vad_silero``) on what is
  left, when its ONNX file is installed (faster-whisper ships it); otherwise energy alone.

Regions are ``(start, end)`` in seconds from the start of the array (``regions.py``).
"""

from __future__ import annotations

import logging

import numpy as np

from lifelog.spool.level import frame_dbfs
from lifelog.tokenize_media.asr.base import SAMPLE_RATE
from lifelog.tokenize_media.asr.regions import DEFAULT_RULES, Region, RegionRules, mask_to_regions, merge_overlapping

log = logging.getLogger(__name__)

frame_rms_db = frame_dbfs
"""RMS level of each whole ``frame``-sample block in dBFS (shared with capture's silence gate)."""


def energy_mask(levels: np.ndarray, floor_db: float = -55.0, margin_db: float = 10.0) -> np.ndarray:
    """Frames loud enough to be speech: above ``floor_db`` and ``margin_db`` over the quiet level.

    The quiet level is the 10th percentile of frame levels, so steady background hiss sets
    its own bar; a recording of pure hiss has no frame far above its own 10th percentile.
    """
    if levels.size == 0:
        return np.zeros(0, bool)
    quiet = float(np.percentile(levels, 10))
    return (levels > floor_db) & (levels > quiet + margin_db)


def energy_regions(
    audio: np.ndarray,
    rate: int = SAMPLE_RATE,
    floor_db: float = -55.0,
    margin_db: float = 10.0,
    rules: RegionRules = DEFAULT_RULES,
) -> list[Region]:
    """Regions loud enough to hold speech, by a 30 ms RMS gate. No model: capture can afford it."""
    frame = int(rate * 0.03)
    mask = energy_mask(frame_rms_db(np.asarray(audio, np.float32), frame), floor_db, margin_db)
    return mask_to_regions(mask, frame / rate, audio.size / rate, rules)


def speech_regions(audio: np.ndarray, rate: int = SAMPLE_RATE, use_model: bool = True) -> list[Region]:
    """Where speech is: the energy gate first (cheap), then Silero VAD inside what passed it."""
    audio = np.asarray(audio, np.float32)
    loud = energy_regions(audio, rate)
    if not loud or not use_model:
        return loud
    from lifelog.tokenize_media.asr import vad_silero

    if not vad_silero.available():
        log.debug("Silero VAD not installed; using the energy gate alone")
        return loud
    found: list[Region] = []
    for start, end in loud:
        piece = audio[int(start * rate) : int(end * rate)]
        found += [(start + s, start + e) for s, e in vad_silero.silero_regions(piece, rate)]
    return merge_overlapping(found)


def cut(audio: np.ndarray, regions: list[Region], rate: int = SAMPLE_RATE) -> list[np.ndarray]:
    """The samples of each region (views, not copies)."""
    return [audio[int(s * rate) : int(e * rate)] for s, e in regions]
