"""Find the speech in audio before Whisper sees it, so silence never becomes "Thank you."

Two detectors share one way of turning per-frame decisions into regions:

- ``energy_regions``: an RMS gate, pure numpy, microseconds per second of audio. It rejects
  silence and faint hiss; it cannot tell speech from a fan or music.
- ``speech_regions``: the energy gate, then the Silero VAD network (``vad_silero``) on what is
  left, when its ONNX file is installed (faster-whisper ships it); otherwise energy alone.

Regions are ``(start, end)`` in seconds from the start of the array.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from lifelog.spool.level import frame_dbfs

from lifelog.tokenize_media.asr.base import SAMPLE_RATE

log = logging.getLogger(__name__)

Region = tuple[float, float]


@dataclass(frozen=True)
class RegionRules:
    """How per-frame speech decisions become regions: fill short pauses, drop blips, pad edges."""

    min_speech: float = 0.25  # shorter voiced runs are clicks or breaths
    min_silence: float = 0.6  # shorter pauses stay inside one region
    pad: float = 0.3  # Whisper misreads words cut at their first or last phoneme


DEFAULT_RULES = RegionRules()


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


def mask_to_regions(mask: np.ndarray, hop: float, duration: float, rules: RegionRules = DEFAULT_RULES) -> list[Region]:
    """Turn per-frame booleans (``hop`` seconds apart) into padded, merged speech regions."""
    runs = _runs(mask, hop)
    merged: list[list[float]] = []
    for start, end in runs:
        if merged and start - merged[-1][1] < rules.min_silence:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    kept = [(s, e) for s, e in merged if e - s >= rules.min_speech]
    padded = [(max(0.0, s - rules.pad), min(duration, e + rules.pad)) for s, e in kept]
    return merge_overlapping(padded)


def _runs(mask: np.ndarray, hop: float) -> list[Region]:
    """``(start, end)`` seconds of each run of True frames."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(float(s * hop), float(e * hop)) for s, e in zip(starts, ends)]


def merge_overlapping(regions: list[Region]) -> list[Region]:
    """Sorted regions with any that touch or overlap joined."""
    out: list[Region] = []
    for start, end in sorted(regions):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


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
