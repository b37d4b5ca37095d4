"""From window embeddings to speakers (``speaker_turns.py``) and windows over speech
(``speakers.window_spans``), on embeddings made to measure: voices are directions in 192
dimensions with noise around them, at the similarities measured on real voices (one voice's
windows ~0.5 alike, two voices' centroids ~0.5 alike). The real voices: tests/cli/test_speakers_e2e.py."""

from __future__ import annotations

import numpy as np
import pytest

from lifelog.tokenize_media.asr.speaker_turns import (
    CUT,
    JOIN_GAP,
    MIN_WINDOWS,
    SAME_VOICE,
    Turn,
    centroids,
    cluster,
    speech_seconds,
    turns,
    unit,
)
from lifelog.tokenize_media.asr.speakers import HOP, MIN_SPEECH, WINDOW, window_spans

DIM = 192


def voice(rng: np.random.Generator, like: np.ndarray | None = None, cos: float = 0.5) -> np.ndarray:
    """A unit direction; with ``like``, one whose cosine to it is ``cos``."""
    v = unit(rng.normal(size=DIM))
    if like is None:
        return v
    v = unit(v - (v @ like) * like)
    return unit(cos * like + np.sqrt(1 - cos**2) * v)


def windows(rng: np.random.Generator, centre: np.ndarray, n: int, spread: float = 0.6) -> np.ndarray:
    """``n`` window embeddings around ``centre``, each ``sqrt(1 - spread**2)`` alike to it (0.8),
    so two of them ~0.64 alike (real 1.5 s windows of one voice: ~0.46 on average)."""
    noise = unit(rng.normal(size=(n, DIM)))
    return unit(np.sqrt(1 - spread**2) * centre + spread * noise)


def test_two_voices_taking_turns_are_two_speakers_numbered_by_first_speech():
    rng = np.random.default_rng(1)
    a = voice(rng)
    b = voice(rng, like=a, cos=0.5)
    x = np.concatenate([windows(rng, a, 8), windows(rng, b, 8), windows(rng, a, 8)])
    labels = cluster(x)
    assert list(labels[:8]) == [0] * 8 and list(labels[8:16]) == [1] * 8 and list(labels[16:]) == [0] * 8
    found = centroids(x, labels)
    assert found.shape == (2, DIM)
    assert found[0] @ a > 0.9 and found[1] @ b > 0.9  # each centroid is its voice


def test_one_voice_split_by_the_linkage_is_joined_back_by_its_centroids():
    rng = np.random.default_rng(2)
    a = voice(rng)
    halves = voice(rng, like=a, cos=0.78)  # the same voice heard two ways (a room, a phone line)
    x = np.concatenate([windows(rng, a, 30, spread=0.69), windows(rng, halves, 30, spread=0.69)])
    from scipy.cluster.hierarchy import fcluster, linkage

    cut_alone = fcluster(linkage(x.astype(np.float64), method="average", metric="cosine"), t=CUT, criterion="distance")
    assert len(set(cut_alone)) >= 2, "the made-up voice no longer splits: the test no longer tests the join"
    assert set(cluster(x)) == {0}


def test_voices_less_alike_than_same_voice_stay_apart():
    rng = np.random.default_rng(3)
    a = voice(rng)
    b = voice(rng, like=a, cos=SAME_VOICE - 0.15)
    x = np.concatenate([windows(rng, a, 10, spread=0.5), windows(rng, b, 10, spread=0.5)])
    assert len(set(cluster(x))) == 2


def test_a_cluster_too_small_to_be_a_voice_goes_to_the_nearest_voice():
    rng = np.random.default_rng(4)
    a, cough = voice(rng), voice(rng)  # a cough: unlike anything, two windows long
    b = voice(rng, like=a, cos=0.3)
    x = np.concatenate([windows(rng, a, 10), windows(rng, cough, MIN_WINDOWS - 1, spread=0.3), windows(rng, b, 10)])
    labels = cluster(x)
    assert len(set(labels)) == 2
    assert list(labels[:10]) == [0] * 10 and list(labels[-10:]) == [1] * 10


@pytest.mark.parametrize("n", [0, 1])
def test_no_window_or_one_is_no_speaker_or_one(n):
    x = voice(np.random.default_rng(5))[None, :].repeat(n, axis=0)
    assert list(cluster(x)) == [0] * n
    assert centroids(x, cluster(x)).shape == (n, DIM)


def test_turns_meet_half_way_between_overlapping_windows_and_bridge_short_pauses():
    spans = [(0.0, 1.5), (0.75, 2.25), (1.5, 3.0), (3.5, 5.0), (10.0, 11.5)]
    found = turns(spans, np.array([0, 0, 1, 1, 1]))
    # windows 1 and 2 overlap: the change falls between their centres (1.5 and 2.25)
    assert found[0] == Turn(0.0, pytest.approx((1.5 + 2.25) / 2), 0)
    # 0.5 s of silence (<= JOIN_GAP) bridged; the 5 s pause is not
    assert found[1] == Turn(pytest.approx((1.5 + 2.25) / 2), 5.0, 1) and 5.0 - 3.0 < 10.0 - 5.0
    assert found[2] == Turn(10.0, 11.5, 1)
    assert len(found) == 3 and 3.5 - 3.0 <= JOIN_GAP
    assert speech_seconds(found, 2) == pytest.approx([1.875, 3.125 + 1.5])


def test_windows_cover_each_speech_region_and_skip_what_is_too_short():
    regions = [(0.0, 4.0), (5.0, 5.0 + WINDOW / 2), (9.0, 9.0 + MIN_SPEECH / 2)]
    spans = window_spans(regions)
    long = [s for s in spans if s[1] <= 4.0]
    assert long[0] == (0.0, WINDOW) and long[-1] == pytest.approx((4.0 - WINDOW, 4.0))
    assert all(e - s == pytest.approx(WINDOW) for s, e in long)
    assert all(b[0] - a[0] <= HOP + 1e-9 for a, b in zip(long, long[1:]))
    assert (5.0, 5.0 + WINDOW / 2) in spans  # shorter than a window: one window of its own length
    assert not [s for s in spans if s[0] >= 9.0]  # under MIN_SPEECH: none
