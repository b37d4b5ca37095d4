"""Transcribe only the voiced parts of a recording, with timestamps on the recording's clock.

This is what ingest calls for an audio chunk. Silence is cut out before Whisper (it
is what makes Whisper hallucinate, and it costs decoding time); the voiced regions are
joined with short gaps into one array so that many short utterances cost one pass rather
than one padded 30 s window each; segment times are then mapped back; hygiene runs last.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, replace

import numpy as np

from lifelog.tokenize_media.asr.base import SAMPLE_RATE, AsrEngine, Segment, as_samples
from lifelog.tokenize_media.asr.hygiene import clean
from lifelog.tokenize_media.asr.script import to_script
from lifelog.tokenize_media.asr.vad import Region, speech_regions

log = logging.getLogger(__name__)

GAP = 0.4  # seconds of silence between joined regions: a clear pause, not enough to hallucinate in


@dataclass(frozen=True)
class SpeechMap:
    """Where each voiced region sits in the joined array (``joined``) and in the original."""

    regions: list[Region]
    joined: list[float]  # start of each region inside the joined array, seconds

    def to_original(self, t: float, is_end: bool = False) -> float:
        """A time in the joined array as a time in the original audio.

        Times that fall in a gap between regions snap to the nearest real speech edge: a start
        to the next region's start, an end to the previous region's end.
        """
        k = max(bisect.bisect_right(self.joined, t) - 1, 0)
        start, end = self.regions[k]
        offset = t - self.joined[k]
        if offset > end - start:
            if is_end or k + 1 == len(self.regions):
                return end
            return self.regions[k + 1][0]
        return start + max(offset, 0.0)


def join_regions(audio: np.ndarray, regions: list[Region], rate: int = SAMPLE_RATE) -> tuple[np.ndarray, SpeechMap]:
    """The voiced samples joined with ``GAP`` seconds of silence, and the map back."""
    gap = np.zeros(int(GAP * rate), np.float32)
    pieces, joined, cursor = [], [], 0.0
    for start, end in regions:
        piece = audio[int(start * rate) : int(end * rate)]
        joined.append(cursor)
        pieces += [piece, gap]
        cursor += piece.size / rate + GAP
    return np.concatenate(pieces[:-1]), SpeechMap(list(regions), joined)


def transcribe_speech(
    engine: AsrEngine, audio: np.ndarray, use_vad_model: bool = True, script: str = "as-heard"
) -> list[Segment]:
    """Clean segments of the speech in ``audio``, timed in seconds from its start, Chinese ones
    written in ``script`` (``chinese_script``); [] for silence."""
    audio = as_samples(audio)
    regions = speech_regions(audio, use_model=use_vad_model)
    if not regions:
        log.debug("no speech in %.1f s of audio", audio.size / SAMPLE_RATE)
        return []
    voiced, speech_map = join_regions(audio, regions)
    raw = engine.transcribe(voiced)
    mapped = [
        replace(s, start=speech_map.to_original(s.start), end=speech_map.to_original(s.end, is_end=True)) for s in raw
    ]
    return to_script(clean(mapped), script)
