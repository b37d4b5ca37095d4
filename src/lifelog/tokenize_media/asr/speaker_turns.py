"""From window embeddings to speakers: clusters, turns, and which cluster is which known voice.

Speaker embeddings (``speakers.py``) are taken over short overlapping windows of voiced audio.
Here they become speakers in two steps: average-linkage over their cosine distances, cut at
``CUT``, then clusters whose centroids are at least ``SAME_VOICE`` alike joined, most alike
first (a centroid averages away the noise of single windows, so it tells one voice split in
two from two voices better than the linkage's heights, which for real voices lie close to each
other: 0.54 inside one English voice, 0.60 between it and a Mandarin one); clusters too small
to be a voice (a cough, a window straddling two voices) are folded into the nearest real one. Windows labelled alike and close in time become one turn. Matching a
recording's speakers to the voices already known is ``store/voices.py``'s.

numpy, plus scipy's hierarchical clustering (installed with the ``audio`` extra).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lifelog.tokenize_media.asr.regions import Region

CUT = 0.55
"""Average cosine distance at which two groups of windows may be two voices (FIELD-NOTES: 0.6
gave three real speakers at 98.8 % purity, but one English and one Mandarin voice taking turns
merge at 0.60: BENCHMARKS.md)."""
SAME_VOICE = 0.65
"""Least cosine between two clusters' centroids for them to be one voice (measured on real
voices: one voice's halves 0.63-0.89, two voices 0.45-0.58)."""
MIN_WINDOWS = 3
"""A cluster of fewer windows (about 2 s of speech) is not taken for a voice of its own."""
JOIN_GAP = 1.0
"""Seconds of silence a turn bridges when the same voice speaks on after it."""


@dataclass(frozen=True)
class Turn:
    """A stretch of speech by one speaker, in seconds from the start of the audio."""

    start: float
    end: float
    speaker: int  # an index into the diarization's speakers, 0 for the first heard


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero)."""
    vectors = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def cluster(embeddings: np.ndarray, cut: float = CUT, min_windows: int = MIN_WINDOWS) -> np.ndarray:
    """A speaker label for each row of ``embeddings`` (n, dim): 0, 1, ... in order of first
    appearance. One window, or none, is one speaker (or none)."""
    n = len(embeddings)
    if n < 2:
        return np.zeros(n, np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    x = unit(embeddings).astype(np.float64)
    labels = fcluster(linkage(x, method="average", metric="cosine"), t=cut, criterion="distance")
    return _first_seen_order(_fold_small(x, _join_alike(x, labels), min_windows))


def _join_alike(x: np.ndarray, labels: np.ndarray, same: float = SAME_VOICE) -> np.ndarray:
    """Clusters whose centroids are at least ``same`` alike joined, the most alike pair first."""
    groups = {int(k): x[labels == k].sum(axis=0) for k in np.unique(labels)}
    labels = labels.copy()
    while len(groups) > 1:
        keys = list(groups)
        centres = unit(np.stack([groups[k] for k in keys]))
        sims = centres @ centres.T
        np.fill_diagonal(sims, -1.0)
        i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
        if sims[i, j] < same:
            break
        keep, gone = keys[i], keys[j]
        groups[keep] = groups[keep] + groups.pop(gone)
        labels[labels == gone] = keep
    return labels


def _fold_small(x: np.ndarray, labels: np.ndarray, min_windows: int) -> np.ndarray:
    """Windows of clusters smaller than ``min_windows`` go to the nearest big cluster's centroid
    (when there is a big one: otherwise the clusters stand as they are)."""
    ids, counts = np.unique(labels, return_counts=True)
    big = ids[counts >= min_windows]
    if big.size == 0 or big.size == ids.size:
        return labels
    centroids = unit(np.stack([x[labels == b].mean(axis=0) for b in big]))
    small = ~np.isin(labels, big)
    labels = labels.copy()
    labels[small] = big[np.argmax(x[small] @ centroids.T, axis=1)]
    return labels


def _first_seen_order(labels: np.ndarray) -> np.ndarray:
    _, first = np.unique(labels, return_index=True)
    order = {labels[i]: rank for rank, i in enumerate(sorted(first))}
    return np.array([order[v] for v in labels], np.int64)


def centroids(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each speaker's mean embedding (unit length), row ``k`` for label ``k``."""
    if len(labels) == 0:
        return np.zeros((0, np.shape(embeddings)[-1]), np.float32)
    x = unit(embeddings)
    return unit(np.stack([x[labels == k].mean(axis=0) for k in range(int(labels.max()) + 1)]))


def turns(spans: Sequence[Region], labels: np.ndarray, join_gap: float = JOIN_GAP) -> list[Turn]:
    """Turns from windows (``spans``, in time order, each with its label): where windows
    overlap, the time is split at the midpoint between their centres; neighbouring pieces of the
    same speaker with at most ``join_gap`` seconds between them are one turn."""
    pieces: list[Turn] = []
    for i, ((start, end), label) in enumerate(zip(spans, labels)):
        centre2 = start + end  # twice the centre
        if i > 0 and spans[i - 1][1] > start:  # overlaps the previous window: meet half-way
            start = max(start, (sum(spans[i - 1]) + centre2) / 4)
        if i + 1 < len(spans) and spans[i + 1][0] < end:
            end = min(end, (centre2 + sum(spans[i + 1])) / 4)
        pieces.append(Turn(start, end, int(label)))
    merged: list[Turn] = []
    for piece in pieces:
        if merged and merged[-1].speaker == piece.speaker and piece.start - merged[-1].end <= join_gap:
            merged[-1] = Turn(merged[-1].start, max(merged[-1].end, piece.end), piece.speaker)
        elif piece.end > piece.start:
            merged.append(piece)
    return merged


def speech_seconds(found: Sequence[Turn], speakers: int) -> list[float]:
    """How long each speaker spoke, in seconds."""
    totals = [0.0] * speakers
    for t in found:
        totals[t.speaker] += t.end - t.start
    return totals
