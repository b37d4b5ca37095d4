"""Speech detection on real espeak-ng speech, silence and noise; the time map back from joined speech."""

from __future__ import annotations

import numpy as np
import pytest

from lifelog.tokenize_media.asr import vad_silero
from lifelog.tokenize_media.asr.base import SAMPLE_RATE
from lifelog.tokenize_media.asr.speech import GAP, join_regions
from lifelog.tokenize_media.asr.vad import RegionRules, energy_regions, mask_to_regions, speech_regions
from tests.support.speech import have_espeak, place, speech_samples

RNG = np.random.default_rng(7)


@pytest.fixture(scope="module")
def asr_utterance(tmp_path_factory):
    if not have_espeak():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    return speech_samples("Please send the final report before Friday.", tmp_path_factory.mktemp("vad"))


def seconds(audio):
    return audio.size / SAMPLE_RATE


def noise(level, duration=10.0):
    return RNG.normal(0, level, int(duration * SAMPLE_RATE)).astype(np.float32)


@pytest.mark.parametrize("finder", [energy_regions, speech_regions])
def test_speech_in_silence_is_found_where_it_is(asr_utterance, finder):
    audio = place(asr_utterance, at=3.0, total=seconds(asr_utterance) + 6.0, noise=0.001)
    (start, end), *rest = finder(audio)
    assert rest == []
    assert 2.5 <= start <= 3.1
    assert 3.0 + seconds(asr_utterance) - 0.3 <= end <= 3.0 + seconds(asr_utterance) + 0.6


def test_quiet_speech_is_still_found(asr_utterance):
    quiet = asr_utterance * 10 ** (-30 / 20)  # about -50 dBFS RMS: a distant speaker
    audio = place(quiet, at=2.0, total=seconds(quiet) + 4.0, noise=0.0005)
    regions = speech_regions(audio)
    assert len(regions) == 1 and abs(regions[0][0] - 2.0) < 0.5
    assert regions[0][1] > 2.0 + seconds(quiet) - 0.5


def test_two_utterances_apart_give_two_regions(asr_utterance):
    gap = np.zeros(3 * SAMPLE_RATE, np.float32)
    regions = speech_regions(np.concatenate([gap, asr_utterance, gap, asr_utterance, gap]))
    assert len(regions) == 2
    assert regions[1][0] - regions[0][1] > 2.0


@pytest.mark.parametrize("level", [0.0, 0.003, 0.03, 0.1])
def test_steady_noise_is_not_speech(level):
    assert speech_regions(noise(level)) == []


def test_a_noise_burst_passes_the_energy_gate_but_not_silero():
    audio = np.zeros(8 * SAMPLE_RATE, np.float32)
    audio[3 * SAMPLE_RATE : 4 * SAMPLE_RATE] = noise(0.2, 1.0)
    assert energy_regions(audio) != []
    if not vad_silero.available():
        pytest.skip("Silero VAD is not installed (comes with faster-whisper)")
    assert speech_regions(audio) == []


def test_speech_in_noise_is_still_found(asr_utterance):
    audio = place(asr_utterance, at=2.0, total=seconds(asr_utterance) + 4.0, noise=0.02)
    regions = speech_regions(audio)
    assert len(regions) == 1 and abs(regions[0][0] - 2.0) < 0.5


def test_silero_scores_speech_high_and_silence_low(asr_utterance):
    if not vad_silero.available():
        pytest.skip("Silero VAD is not installed (comes with faster-whisper)")
    probs = vad_silero.speech_probs(place(asr_utterance, at=2.0, total=seconds(asr_utterance) + 4.0))
    window = vad_silero.WINDOW / SAMPLE_RATE
    speech = probs[int(2.3 / window) : int((1.8 + seconds(asr_utterance)) / window)]
    assert probs[: int(1.5 / window)].max() < 0.2
    assert np.median(speech) > 0.8


def test_mask_to_regions_fills_pauses_drops_blips_and_pads():
    hop = 0.1
    mask = np.array([0] * 10 + [1] * 10 + [0] * 3 + [1] * 10 + [0] * 20 + [1] * 1 + [0] * 10, bool)
    rules = RegionRules(min_speech=0.25, min_silence=0.6, pad=0.3)
    assert mask_to_regions(mask, hop, mask.size * hop, rules) == [pytest.approx((0.7, 3.6))]


def test_joined_speech_maps_back_to_original_times():
    audio = np.zeros(20 * SAMPLE_RATE, np.float32)
    regions = [(2.0, 4.0), (10.0, 11.0)]
    joined, speech_map = join_regions(audio, regions)
    assert seconds(joined) == pytest.approx(3.0 + GAP)
    assert speech_map.to_original(0.5) == pytest.approx(2.5)
    assert speech_map.to_original(2.0 + GAP + 0.5) == pytest.approx(10.5)
    assert speech_map.to_original(2.0 + GAP / 2) == pytest.approx(10.0)  # a start in the gap
    assert speech_map.to_original(2.0 + GAP / 2, is_end=True) == pytest.approx(4.0)  # an end in it
