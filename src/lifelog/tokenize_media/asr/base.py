"""The ASR engine interface: one essential method, ``transcribe``, over 16 kHz mono samples.

Everything else (files, voiced-only transcription) is derived from it, so a new engine only
has to turn an array of samples into timed segments.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
"""Whisper's input rate; every array passed between ASR functions uses it."""


@dataclass(frozen=True)
class Segment:
    """A stretch of recognised speech, timed in seconds from the start of the audio given.

    The three scores are Whisper's own and drive transcript hygiene: ``no_speech_prob`` is
    the model's belief that the window held no speech, ``avg_logprob`` its mean token
    log-probability (confidence), ``compression_ratio`` how well the text gzips (high means
    a repetition loop).
    """

    start: float
    end: float
    text: str
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0


class AsrEngine(ABC):
    """A speech recogniser identified by a string id, bound to one device and weight set."""

    id: str = ""
    device: str = "cpu"
    compute_type: str = "float32"

    @abstractmethod
    def transcribe(self, audio: np.ndarray) -> list[Segment]:
        """Segments of English speech in ``audio`` (float32 mono 16 kHz, values in [-1, 1])."""

    def transcribe_file(self, path: str | Path) -> list[Segment]:
        """Segments of an audio file of any format PyAV opens (UsageError when it cannot)."""
        from lifelog.tokenize_media.asr.audio_io import decode_audio

        return self.transcribe(decode_audio(path))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.device}/{self.compute_type}>"


def as_samples(audio: np.ndarray) -> np.ndarray:
    """``audio`` as a contiguous 1-D float32 array, the only layout both engines accept."""
    samples = np.asarray(audio)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples (1-D), got shape {samples.shape}")
    return np.ascontiguousarray(samples, dtype=np.float32)
