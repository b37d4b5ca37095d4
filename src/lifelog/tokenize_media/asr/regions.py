"""Speech regions from per-frame decisions, shared by both detectors (``vad.py``'s energy gate
and ``vad_silero.py``'s network): fill short pauses, drop blips, pad the edges. Regions are
``(start, end)`` in seconds from the start of the array."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Region = tuple[float, float]


@dataclass(frozen=True)
class RegionRules:
    """How per-frame speech decisions become regions: fill short pauses, drop blips, pad edges."""

    min_speech: float = 0.25  # shorter voiced runs are clicks or breaths
    min_silence: float = 0.6  # shorter pauses stay inside one region
    pad: float = 0.3  # Whisper misreads words cut at their first or last phoneme


DEFAULT_RULES = RegionRules()


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
